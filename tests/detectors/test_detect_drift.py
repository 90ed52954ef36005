"""Whole-model drift runs: tests per kind, correction, verdicts, configuration."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detectors import (
    Correction,
    DriftConfig,
    FeatureSpec,
    ReferenceProfile,
    compare_samples,
    detect_drift,
    make_test,
)
from detectors.correction import correct
from detectors.results import DriftResult


def frame(rows: int, seed: int, shift: float = 0.0, features: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns = {f"x{i}": rng.normal(shift if i == 0 else 0.0, 1.0, rows) for i in range(features)}
    columns["plan"] = rng.choice(["a", "b", "c"], rows)
    return pd.DataFrame(columns)


def schema(features: int = 6) -> list[FeatureSpec]:
    numerical = [FeatureSpec(f"x{i}", "numerical") for i in range(features)]
    return [*numerical, FeatureSpec("plan", "categorical")]


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    return ReferenceProfile.fit(frame(5_000, seed=0), schema())


def test_shifted_feature_drifts_and_stable_ones_do_not(profile: ReferenceProfile) -> None:
    report = detect_drift(profile, frame(3_000, seed=1, shift=0.5))
    assert report.drifted_features == ("x0",)


def test_default_tests_are_ks_and_psi_for_numerical_and_chi_squared_and_psi_for_categorical(
    profile: ReferenceProfile,
) -> None:
    report = detect_drift(profile, frame(300, seed=1))
    tests = {f.feature: tuple(r.test for r in f.results) for f in report.features}
    assert (tests["x0"], tests["plan"]) == (("ks", "psi"), ("chi_squared", "psi"))


def test_feature_verdict_is_the_primary_test_verdict(profile: ReferenceProfile) -> None:
    config = DriftConfig(feature_tests={"x0": (make_test("ks", threshold=0.9), make_test("psi"))})
    feature = detect_drift(profile, frame(3_000, seed=1, shift=0.5), config).feature("x0")
    assert (feature.drifted, feature.result("psi").drifted) == (False, True)


def test_benjamini_hochberg_adjusts_each_tests_p_values_across_features(
    profile: ReferenceProfile,
) -> None:
    report = detect_drift(profile, frame(2_000, seed=2, shift=0.05))
    ks = [f.result("ks") for f in report.features if f.kind == "numerical"]
    expected = stats.false_discovery_control([r.p_value for r in ks], method="bh")
    assert [r.adjusted_p_value for r in ks] == pytest.approx(expected.tolist(), rel=1e-12)


def test_bonferroni_multiplies_p_values_by_the_number_of_features(
    profile: ReferenceProfile,
) -> None:
    config = DriftConfig(correction=Correction.BONFERRONI)
    ks = [f.result("ks") for f in detect_drift(profile, frame(2_000, 2), config).features[:6]]
    assert [r.adjusted_p_value for r in ks] == pytest.approx(
        [min(1.0, 6 * (r.p_value or 0.0)) for r in ks], rel=1e-12
    )


def test_no_correction_keeps_the_raw_p_values(profile: ReferenceProfile) -> None:
    report = detect_drift(profile, frame(2_000, 2), DriftConfig(correction="none"))
    assert all(r.adjusted_p_value == r.p_value for f in report.features for r in f.results)


def test_correction_clears_a_feature_whose_adjusted_p_value_is_not_significant() -> None:
    results = [
        DriftResult(
            feature=f"x{i}",
            test="ks",
            method="grid",
            statistic=0.2,
            effect_size=0.2,
            p_value=p,
            adjusted_p_value=p,
            threshold=0.1,
            p_value_threshold=0.01,
            drifted=p < 0.01,
            n_ref=1_000,
            n_cur=1_000,
        )
        for i, p in enumerate([0.008, 0.5, 0.6, 0.7])
    ]
    first = correct(results, Correction.BH)[0]
    assert (results[0].drifted, first.adjusted_p_value, first.drifted) == (True, 0.032, False)


def test_data_set_drifts_when_the_drifted_share_reaches_drift_share(
    profile: ReferenceProfile,
) -> None:
    current = frame(3_000, seed=1, shift=0.5)
    assert not detect_drift(profile, current).drifted
    report = detect_drift(profile, current, DriftConfig(drift_share=1 / 7))
    assert (report.drift_share, report.drifted) == (pytest.approx(1 / 7), True)


def test_large_window_runs_on_the_grid(profile: ReferenceProfile) -> None:
    report = detect_drift(profile, frame(20_000, seed=5))
    assert report.feature("x1").primary.method == "grid"


def test_detect_drift_refuses_a_window_without_a_feature_column(
    profile: ReferenceProfile,
) -> None:
    with pytest.raises(ValueError, match=r"no column for feature.*plan"):
        detect_drift(profile, frame(100, seed=1).drop(columns="plan"))


def test_config_refuses_a_test_that_cannot_run_on_the_feature_kind(
    profile: ReferenceProfile,
) -> None:
    config = DriftConfig(feature_tests={"plan": (make_test("ks"),)})
    with pytest.raises(ValueError, match="test 'ks' cannot run on categorical feature 'plan'"):
        detect_drift(profile, frame(100, seed=1), config)


def test_drift_config_round_trips_through_json() -> None:
    config = DriftConfig(
        tests={"numerical": (make_test("wasserstein", threshold=0.2),)},
        feature_tests={"plan": (make_test("psi", epsilon=1e-3),)},
        correction="bonferroni",
        drift_share=0.3,
    )
    assert DriftConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_drift_config_refuses_a_drift_share_above_one() -> None:
    with pytest.raises(ValueError, match=r"drift_share must be a number in \(0.0, 1.0\]"):
        DriftConfig(drift_share=1.5)


def test_drift_config_refuses_an_unknown_correction() -> None:
    with pytest.raises(ValueError, match="correction must be one of none, bonferroni, bh"):
        DriftConfig(correction="holm")  # type: ignore[arg-type]


def test_unknown_test_parameter_is_refused_with_the_test_name() -> None:
    with pytest.raises(ValueError, match="invalid parameters for test 'psi'"):
        make_test("psi", bins=5)


def test_report_to_dict_is_strict_json(profile: ReferenceProfile) -> None:
    report = detect_drift(profile, frame(100, seed=1).iloc[:0])
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert json.loads(text)["features"][0]["results"][0]["statistic"] is None


def test_compare_samples_fits_a_profile_on_the_reference_side() -> None:
    stable, canary = frame(2_000, seed=6), frame(2_000, seed=7, shift=1.0)
    report = compare_samples(stable, canary)
    assert report.drifted_features == ("x0",)
