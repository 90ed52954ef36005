"""Drift-run configuration, kept apart from the calculation and round-trippable as plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from detectors.correction import Correction
from detectors.quality import QualityThresholds
from detectors.registry import default_tests, stat_test_from_dict
from detectors.schema import FeatureKind, FeatureSpec
from detectors.stattests import StatTest
from detectors.validation import check_float


@dataclass(frozen=True, slots=True)
class DriftConfig:
    """Which tests run on which features, how p-values are corrected and when a data set drifts.

    ``tests`` maps each feature kind to its tests, the first deciding the feature's verdict
    (defaults: :data:`detectors.registry.DEFAULT_TESTS`); ``feature_tests`` overrides them for
    named features. The data set drifts when the share of drifted features reaches
    ``drift_share``.

    >>> from detectors.registry import make_test
    >>> config = DriftConfig(feature_tests={"income": (make_test("psi", threshold=0.1),)})
    >>> DriftConfig.from_dict(config.to_dict()) == config
    True
    """

    tests: Mapping[FeatureKind, tuple[StatTest, ...]] = field(
        default_factory=lambda: {kind: default_tests(kind) for kind in FeatureKind}
    )
    feature_tests: Mapping[str, tuple[StatTest, ...]] = field(default_factory=dict)
    correction: Correction = Correction.BH
    drift_share: float = 0.5
    quality: QualityThresholds = field(default_factory=QualityThresholds)

    def __post_init__(self) -> None:
        check_float("drift_share", self.drift_share, 0.0, 1.0, open_low=True)
        try:
            object.__setattr__(self, "correction", Correction(self.correction))
        except ValueError:
            valid = ", ".join(c.value for c in Correction)
            raise ValueError(
                f"correction must be one of {valid}, got {self.correction!r}"
            ) from None
        tests = {kind: tuple(self.tests.get(kind, default_tests(kind))) for kind in FeatureKind}
        object.__setattr__(self, "tests", MappingProxyType(tests))
        feature_tests = {name: tuple(chosen) for name, chosen in self.feature_tests.items()}
        object.__setattr__(self, "feature_tests", MappingProxyType(feature_tests))
        for key, chosen in [*tests.items(), *self.feature_tests.items()]:
            if not chosen:
                raise ValueError(f"tests for {key!r} must name at least one test")

    def tests_for(self, spec: FeatureSpec) -> tuple[StatTest, ...]:
        """The tests for one feature, refusing a test that does not accept its kind."""
        chosen = self.feature_tests.get(spec.name, self.tests[spec.kind])
        for test in chosen:
            if spec.kind not in test.kinds:
                raise ValueError(
                    f"test {test.name!r} cannot run on {spec.kind.value} feature {spec.name!r}"
                )
        return chosen

    def to_dict(self) -> dict[str, Any]:
        return {
            "tests": {
                kind.value: [t.to_dict() for t in tests] for kind, tests in self.tests.items()
            },
            "feature_tests": {
                name: [t.to_dict() for t in tests] for name, tests in self.feature_tests.items()
            },
            "correction": self.correction.value,
            "drift_share": self.drift_share,
            "quality": self.quality.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftConfig:
        def parse(items: list[Mapping[str, Any]]) -> tuple[StatTest, ...]:
            return tuple(stat_test_from_dict(item) for item in items)

        return cls(
            tests={FeatureKind(kind): parse(items) for kind, items in data["tests"].items()},
            feature_tests={name: parse(items) for name, items in data["feature_tests"].items()},
            correction=Correction(data["correction"]),
            drift_share=data["drift_share"],
            quality=QualityThresholds.from_dict(data["quality"]),
        )
