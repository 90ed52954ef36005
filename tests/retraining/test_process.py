"""Local pipeline processes: logs captured, failures and timeouts recorded, the whole process
group killed at the timeout."""

import os
import sys
import time
from pathlib import Path

from tests.retraining.scenario import process_gone
from triggers.retraining import ProcessOutcome, ProcessStatus, read_log_tail, run_process


def _run(
    tmp_path: Path, script: str, timeout: float = 30.0, max_log_bytes: int = 65536
) -> ProcessOutcome:
    return run_process(
        ["/bin/sh", "-c", script],
        env=dict(os.environ),
        cwd=tmp_path,
        timeout_seconds=timeout,
        log_path=tmp_path / "pipeline.log",
        max_log_bytes=max_log_bytes,
    )


def test_clean_exit_succeeds_with_its_output_captured(tmp_path: Path) -> None:
    outcome = _run(tmp_path, "echo fitting; echo warning >&2")
    assert outcome.status is ProcessStatus.SUCCEEDED
    assert outcome.exit_code == 0
    assert "fitting" in outcome.log_tail and "warning" in outcome.log_tail


def test_non_zero_exit_fails_with_the_status_and_logs(tmp_path: Path) -> None:
    outcome = _run(tmp_path, "echo 'no labels in the export' >&2; exit 3")
    assert outcome.status is ProcessStatus.FAILED
    assert outcome.exit_code == 3
    assert "exited with status 3" in outcome.message
    assert "no labels in the export" in outcome.log_tail


def test_timeout_kills_the_process_and_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    started = time.monotonic()
    outcome = _run(tmp_path, f"sleep 60 & echo $! > {pids}; sleep 60", timeout=1.0)
    assert outcome.status is ProcessStatus.TIMED_OUT
    assert outcome.exit_code is None
    assert time.monotonic() - started < 10
    assert process_gone(int(pids.read_text()))


def test_missing_program_fails_naming_it(tmp_path: Path) -> None:
    outcome = run_process(
        [str(tmp_path / "no-such-trainer")],
        env={},
        cwd=tmp_path,
        timeout_seconds=5,
        log_path=tmp_path / "pipeline.log",
        max_log_bytes=1024,
    )
    assert outcome.status is ProcessStatus.FAILED
    assert "no-such-trainer" in outcome.message


def test_long_logs_keep_their_end_and_say_what_was_cut(tmp_path: Path) -> None:
    outcome = _run(
        tmp_path, f"{sys.executable} -c \"print('x' * 5000); print('the end')\"", max_log_bytes=1024
    )
    assert outcome.log_tail.endswith("exited with status 0\n")
    assert "the end" in outcome.log_tail
    assert "earlier bytes cut" in outcome.log_tail
    assert len(outcome.log_tail) < 1200


def test_log_tail_of_a_missing_log_is_empty(tmp_path: Path) -> None:
    assert read_log_tail(tmp_path / "none.log", 100) == ""
