"""The registry of named tests and the default tests per feature kind.

========================  ====================  ===========================  =========
name                      kinds                 effect size (default)        p-value
========================  ====================  ===========================  =========
``ks``                    numerical             KS distance D >= 0.1         < 0.01
``psi``                   all                   PSI >= 0.01                  < 0.01
``chi_squared``           categorical, boolean  Cohen's w >= 0.1             < 0.01
``jensen_shannon``        all                   JS distance >= 0.035         < 0.01
``wasserstein``           numerical             W1 / std(ref) >= 0.3         none
========================  ====================  ===========================  =========
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from detectors.schema import FeatureKind
from detectors.stattests import (
    ChiSquared,
    JensenShannon,
    KolmogorovSmirnov,
    PopulationStabilityIndex,
    StatTest,
    Wasserstein,
)

TESTS: Mapping[str, type[StatTest]] = MappingProxyType(
    {
        cls.name: cls
        for cls in (
            KolmogorovSmirnov,
            PopulationStabilityIndex,
            ChiSquared,
            JensenShannon,
            Wasserstein,
        )
    }
)

# The first test of each kind decides a feature's verdict; the others are reported alongside.
DEFAULT_TESTS: Mapping[FeatureKind, tuple[str, ...]] = MappingProxyType(
    {
        FeatureKind.NUMERICAL: ("ks", "psi"),
        FeatureKind.CATEGORICAL: ("chi_squared", "psi"),
        FeatureKind.BOOLEAN: ("chi_squared", "psi"),
    }
)


def make_test(name: str, **params: Any) -> StatTest:
    """Build a registered test by name with its default or given thresholds.

    >>> make_test("ks", threshold=0.2)
    KolmogorovSmirnov(threshold=0.2, p_value_threshold=0.01, exact_max_size=10000)
    >>> make_test("t-test")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown test 't-test'; registered tests: chi_squared, ..., wasserstein
    """
    if name not in TESTS:
        raise ValueError(f"unknown test {name!r}; registered tests: {', '.join(sorted(TESTS))}")
    try:
        return TESTS[name](**params)
    except TypeError as error:
        raise ValueError(f"invalid parameters for test {name!r}: {error}") from None


def stat_test_from_dict(data: Mapping[str, Any]) -> StatTest:
    """Inverse of ``StatTest.to_dict``."""
    params = dict(data)
    return make_test(params.pop("test"), **params)


def default_tests(kind: FeatureKind) -> tuple[StatTest, ...]:
    return tuple(make_test(name) for name in DEFAULT_TESTS[kind])
