"""Drift per segment: 20 tenants, drift planted in one feature of one tenant only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detectors import FeatureSpec
from detectors.segments import SegmentedProfile, detect_segment_drift

TENANTS = [f"t{i:02d}" for i in range(20)]
SCHEMA = [
    FeatureSpec("amount", "numerical"),
    FeatureSpec("age", "numerical"),
    FeatureSpec("device", "categorical"),
]
ROWS_PER_TENANT = 500


def _frame(rng: np.random.Generator, shifted_tenant: str | None = None) -> pd.DataFrame:
    tenant = np.repeat(TENANTS, ROWS_PER_TENANT)
    offset = np.repeat(np.arange(20) * 0.3, ROWS_PER_TENANT)  # tenants differ by nature
    amount = rng.normal(offset, 1.0)
    if shifted_tenant is not None:
        amount = np.where(tenant == shifted_tenant, amount + 0.5, amount)
    return pd.DataFrame(
        {
            "tenant": tenant,
            "amount": amount,
            "age": rng.normal(40 + offset, 10.0),
            "device": rng.choice(["ios", "android", "web"], tenant.size, p=[0.5, 0.3, 0.2]),
        }
    )


@pytest.fixture(scope="module")
def profile() -> SegmentedProfile:
    return SegmentedProfile.fit(_frame(np.random.default_rng(0)), SCHEMA, ["tenant"])


def test_drift_in_one_tenant_is_flagged_in_that_tenant_alone(profile: SegmentedProfile) -> None:
    report = detect_segment_drift(profile, _frame(np.random.default_rng(1), "t07"))
    assert report.drifted_segments == (("t07",),)
    drifted = next(s for s in report.segments if s.segment == ("t07",)).report.drifted_features
    assert drifted == ("amount",)


def test_no_drift_keeps_false_alarms_per_segment_feature_under_5_percent(
    profile: SegmentedProfile,
) -> None:
    rng = np.random.default_rng(2)
    alarms = tests = 0
    for _ in range(100):
        report = detect_segment_drift(profile, _frame(rng))
        alarms += sum(len(s.report.drifted_features) for s in report.segments)
        tests += sum(len(s.report.features) for s in report.segments)
    assert tests == 100 * 20 * len(SCHEMA)
    assert alarms / tests <= 0.05


def test_small_and_unknown_segments_are_skipped_with_the_reason(profile: SegmentedProfile) -> None:
    window = pd.concat(
        [
            _frame(np.random.default_rng(3)).iloc[: ROWS_PER_TENANT + 50],
            _frame(np.random.default_rng(4)).assign(tenant="new-tenant").iloc[:300],
        ]
    )
    report = detect_segment_drift(profile, window)
    reasons = {s.segment: s.reason for s in report.skipped}
    assert reasons == {
        ("t01",): "under 200 rows",
        ("new-tenant",): "under 200 rows in the reference",
    }
    assert [s.segment for s in report.segments] == [("t00",)]


def test_too_many_segments_are_refused_with_the_fix() -> None:
    frame = pd.DataFrame({"user": np.repeat([f"u{i}" for i in range(150)], 200), "x": 1.0})
    with pytest.raises(ValueError, match=r"150 segments .* at most 100 are judged"):
        SegmentedProfile.fit(frame, [FeatureSpec("x", "numerical")], ["user"])


def test_a_segmented_profile_survives_its_json_round_trip(profile: SegmentedProfile) -> None:
    assert SegmentedProfile.from_json(profile.to_json()) == profile
