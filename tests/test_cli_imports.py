"""Every `monitor` command imports `monitor.cli` first, so it stays clear of the numerical and ML
stacks: `monitor keys create` or `monitor migrate` must not spend seconds loading scipy."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("scipy", "pandas", "sklearn", "shap", "evidently", "mlflow")


def test_importing_the_cli_loads_no_numerical_or_ml_library() -> None:
    code = f"import sys, monitor.cli; print(sorted(set({HEAVY!r}) & set(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"
