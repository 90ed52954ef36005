"""Every runnable example in the detectors package's docstrings runs and gives what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import detectors


def modules() -> list[ModuleType]:
    names = [info.name for info in pkgutil.walk_packages(detectors.__path__, "detectors.")]
    return [importlib.import_module(name) for name in ["detectors", *names]]


def test_docstring_examples_exist() -> None:
    finder = doctest.DocTestFinder()
    examples = sum(len(t.examples) for m in modules() for t in finder.find(m))
    assert examples >= 20


@pytest.mark.parametrize("module", modules(), ids=lambda m: m.__name__)
def test_docstring_examples_run(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
