"""The `monitor` command line run as a user runs it: this interpreter's `python -m monitor` in
a subprocess, in a working directory, with no `MONITOR_*` variable but the database URL given."""

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def _environment(
    database_url: str | None, extra_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    # This checkout's packages, not whichever one the environment was installed from.
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    if database_url is not None:
        env["MONITOR_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    return env


def run_monitor(
    *args: str,
    cwd: Path,
    database_url: str | None = None,
    check: bool = True,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`monitor *args`, its output captured as text; `check`: raise if it exits non-zero;
    `extra_env`: further variables, e.g. other settings."""
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_environment(database_url, extra_env),
        timeout=120,
        check=check,
    )


def first_error_line(*args: str, cwd: Path, database_url: str | None = None) -> str:
    """The first line a long-running `monitor *args` writes to stderr; then it is killed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=cwd,
        env=_environment(database_url),
    )
    try:
        assert process.stderr is not None
        return process.stderr.readline()
    finally:
        process.kill()
        process.wait(timeout=30)
