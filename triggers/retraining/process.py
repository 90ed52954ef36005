"""Running a local pipeline as a child process: output captured to a log file, a hard timeout
that kills the whole process group, and a child that dies with the control plane."""

import ctypes
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

KILL_GRACE_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1


class ProcessStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True, slots=True)
class ProcessOutcome:
    status: ProcessStatus
    exit_code: int | None  # None: killed at the timeout
    seconds: float
    log_tail: str  # the end of the captured output, at most `max_log_bytes`
    message: str  # one line saying what happened, for the run's error field


def _parent_death_signal() -> Callable[[], None] | None:
    """On Linux, a pre-exec hook asking the kernel to SIGKILL the child when its parent dies, so
    a crashed control plane leaves no pipeline running unobserved. The library is loaded here,
    in the parent: the forked child only makes the call."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def hook() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return hook


def read_log_tail(path: Path, max_bytes: int) -> str:
    """The last `max_bytes` of the log, with a note saying how much was cut and where it all is."""
    if not path.exists():
        return ""
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size > max_bytes:
            handle.seek(size - max_bytes)
        tail = handle.read().decode("utf-8", errors="replace")
    if size > max_bytes:
        return f"[{size - max_bytes} earlier bytes cut; the whole log is {path}]\n{tail}"
    return tail


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group, then SIGKILL to whatever is left after a grace period
    (grandchildren included)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=KILL_GRACE_SECONDS)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _exit_message(exit_code: int) -> str:
    if exit_code < 0:
        return f"was killed by {signal.Signals(-exit_code).name}; see the logs"
    return f"exited with status {exit_code}; see the logs"


def run_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None,
    timeout_seconds: float,
    log_path: Path,
    max_log_bytes: int,
    on_start: Callable[[int], None] | None = None,
) -> ProcessOutcome:
    """Run `argv` to completion or until `timeout_seconds`, stdout and stderr into `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log_path.open("ab") as log:
        log.write(f"$ {shlex.join(argv)}\n".encode())
        log.flush()
        try:
            process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a timeout kills it all
                preexec_fn=_parent_death_signal(),  # calls only prctl, safe beside threads
            )
        except OSError as error:
            log.write(f"[monitor] could not start the pipeline: {error}\n".encode())
            return ProcessOutcome(
                ProcessStatus.FAILED,
                None,
                time.monotonic() - started,
                read_log_tail(log_path, max_log_bytes),
                f"could not start {argv[0]!r}: {error}; check the command and working_dir",
            )
        if on_start is not None:
            on_start(process.pid)
        try:
            exit_code: int | None = process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            exit_code = None
        seconds = time.monotonic() - started
        if exit_code is None:
            message = (
                f"timed out after {timeout_seconds:g} s; the process group was killed "
                "(raise the pipeline's timeout if the training needs longer)"
            )
            status = ProcessStatus.TIMED_OUT
        elif exit_code == 0:
            message, status = "exited with status 0", ProcessStatus.SUCCEEDED
        else:
            message, status = _exit_message(exit_code), ProcessStatus.FAILED
        log.write(f"[monitor] {message}\n".encode())
    return ProcessOutcome(
        status, exit_code, seconds, read_log_tail(log_path, max_log_bytes), message
    )
