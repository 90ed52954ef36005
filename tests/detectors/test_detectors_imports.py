"""detectors stays a pure library: numpy, scipy, pandas and (lazily) shap; evidently only in its
adapter; no I/O, clock or web stack."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import detectors

PACKAGE = Path(detectors.__file__).parent
ALLOWED = {"numpy", "scipy", "pandas", "detectors", "__future__"}
LAZY = {"shap": "attribution.py", "evidently": "evidently_report.py"}
STANDARD = set(sys.stdlib_module_names) - {"sqlite3", "socket", "http", "urllib", "time"}


def imports(path: Path) -> list[tuple[str, bool]]:
    """(top-level module, imported inside a function) for every import in a file."""
    found = []
    tree = ast.parse(path.read_text())
    nested = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        for node in ast.walk(function)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], id(node) in nested) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module.split(".")[0], id(node) in nested))
    return found


def test_detectors_import_only_numerical_libraries_and_lazy_adapters() -> None:
    offending = [
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in PACKAGE.rglob("*.py")
        for module, inside_function in imports(path)
        if module not in ALLOWED | STANDARD
        and not (LAZY.get(module) == path.name and inside_function)
    ]
    assert offending == []


def test_importing_detectors_loads_neither_shap_nor_evidently_nor_mlflow() -> None:
    code = (
        "import sys, detectors, detectors.attribution, detectors.evidently_report;"
        "print(sorted({'shap', 'evidently', 'mlflow'} & set(sys.modules)))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"


def test_every_public_name_imports_from_the_lazy_package() -> None:
    namespace: dict[str, object] = {}
    exec("from detectors import *", namespace)
    assert set(detectors.__all__) <= set(namespace)
