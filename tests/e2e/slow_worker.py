"""`monitor worker` whose monitor runs each take SLOW_RUN_SECONDS longer, so a test can kill it
in the middle of a run. Run as a script: it needs nothing from the tests package."""

import os
import time
from typing import Any

from monitor import cli
from monitor.runs import runner

_compute = runner._compute


def _slow_compute(*args: Any) -> Any:
    time.sleep(float(os.environ["SLOW_RUN_SECONDS"]))
    return _compute(*args)


if __name__ == "__main__":
    runner._compute = _slow_compute  # type: ignore[assignment]
    cli.main(["worker"])
