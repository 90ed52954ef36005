"""The canary checks on hand-made step traffic: each check passes, fails or is inconclusive on
the numbers it is given, and the step is starved below `min_requests`."""

from typing import Any

import numpy as np
import pytest

from triggers.canary.analysis import VariantTraffic, analyse_step
from triggers.canary.labels import count_correct
from triggers.canary.thresholds import CheckName, Outcome, Thresholds

BINARY = "binary_classification"


def traffic(
    requests: int = 400,
    *,
    errors: int = 0,
    latency_ms: float = 20.0,
    shift: float = 0.0,
    labelled: int = 0,
    correct: int = 0,
    seed: int = 0,
    predictions: list[Any] | None = None,
) -> VariantTraffic:
    rng = np.random.default_rng(seed)
    served = requests - errors
    scores = np.clip(rng.beta(2, 5, served) + shift, 0.001, 0.999)
    return VariantTraffic(
        requests=requests,
        errors=errors,
        latencies_ms=rng.normal(latency_ms, latency_ms / 10, served),
        predictions=predictions if predictions is not None else scores.tolist(),
        labelled=labelled,
        correct=correct,
    )


def check(stable: VariantTraffic, canary: VariantTraffic, name: CheckName, **limits: Any) -> Any:
    analysis = analyse_step(
        stable, canary, Thresholds(**limits), min_requests=50, task=BINARY, class_labels=("0", "1")
    )
    return next(result for result in analysis.checks if result.name is name)


def test_equal_variants_pass_every_check_judged() -> None:
    analysis = analyse_step(
        traffic(seed=1), traffic(seed=2), Thresholds(), min_requests=50, task=BINARY
    )
    assert analysis.starved is None
    assert analysis.failed == ()
    outcomes = {result.name: result.outcome for result in analysis.checks}
    assert outcomes[CheckName.ERROR_RATE] is Outcome.PASSED
    assert outcomes[CheckName.LATENCY_P99] is Outcome.PASSED
    assert outcomes[CheckName.PREDICTION_PSI] is Outcome.PASSED


def test_error_rate_fails_above_the_allowed_increase() -> None:
    result = check(traffic(errors=4), traffic(errors=40), CheckName.ERROR_RATE)
    assert result.outcome is Outcome.FAILED
    assert (result.stable_value, result.canary_value) == (0.01, 0.1)
    assert result.threshold == 0.02
    assert "+9.00 points" in result.detail


def test_error_rate_passes_within_the_allowed_increase() -> None:
    result = check(traffic(errors=4), traffic(errors=8), CheckName.ERROR_RATE)
    assert result.outcome is Outcome.PASSED


def test_latency_fails_when_the_canary_p99_is_too_many_times_the_stable() -> None:
    result = check(traffic(latency_ms=20), traffic(latency_ms=40), CheckName.LATENCY_P99)
    assert result.outcome is Outcome.FAILED
    assert result.canary_value > 1.5 * result.stable_value


def test_latency_ratio_is_configurable() -> None:
    result = check(
        traffic(latency_ms=20),
        traffic(latency_ms=40),
        CheckName.LATENCY_P99,
        max_p99_latency_ratio=3.0,
    )
    assert result.outcome is Outcome.PASSED


def test_shifted_predictions_fail_the_psi_check() -> None:
    result = check(traffic(seed=1), traffic(seed=2, shift=0.3), CheckName.PREDICTION_PSI)
    assert result.outcome is Outcome.FAILED
    assert result.canary_value > 0.2
    assert "score[1]" in result.detail or "prediction" in result.detail


def test_psi_compares_class_labels_when_no_scores_are_logged() -> None:
    stable = traffic(predictions=["0"] * 300 + ["1"] * 100)
    canary = traffic(predictions=["0"] * 100 + ["1"] * 300)
    result = check(stable, canary, CheckName.PREDICTION_PSI)
    assert result.outcome is Outcome.FAILED
    assert "'prediction'" in result.detail


def test_accuracy_waits_for_enough_labels() -> None:
    result = check(
        traffic(labelled=100, correct=90), traffic(labelled=10, correct=2), CheckName.ACCURACY
    )
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "10 canary labelled requests" in result.detail


def test_accuracy_fails_on_a_drop_beyond_the_threshold() -> None:
    result = check(
        traffic(labelled=100, correct=90), traffic(labelled=100, correct=80), CheckName.ACCURACY
    )
    assert result.outcome is Outcome.FAILED
    assert result.stable_value == pytest.approx(0.9)
    assert result.canary_value == pytest.approx(0.8)


def test_accuracy_is_not_judged_for_regression() -> None:
    analysis = analyse_step(
        traffic(labelled=100, correct=0),
        traffic(labelled=100, correct=0),
        Thresholds(),
        min_requests=50,
        task="regression",
    )
    accuracy = next(r for r in analysis.checks if r.name is CheckName.ACCURACY)
    assert accuracy.outcome is Outcome.INCONCLUSIVE


def test_a_variant_below_min_requests_starves_the_step() -> None:
    analysis = analyse_step(traffic(400), traffic(20), Thresholds(), min_requests=50, task=BINARY)
    assert analysis.starved == "canary served 20 requests; min_requests is 50"
    assert all(result.outcome is Outcome.INCONCLUSIVE for result in analysis.checks)
    assert analysis.failed == ()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_error_rate_increase", -0.1),
        ("max_p99_latency_ratio", 0.5),
        ("max_prediction_psi", 0),
        ("max_accuracy_drop", 2),
        ("min_labels", 0),
    ],
)
def test_thresholds_refuse_values_out_of_range_naming_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        Thresholds(**{field: value})


def test_count_correct_reads_scores_labels_and_probabilities() -> None:
    assert count_correct([0.9, 0.2, 0.7], ["1", "1", 0], BINARY, ("0", "1")) == (3, 1)
    assert count_correct(["1", "0", "1"], [1, 0, None], BINARY, ("0", "1")) == (2, 2)
    assert count_correct(
        [{"a": 0.8, "b": 0.2}] * 2, ["a", "b"], "multiclass_classification", "ab"
    ) == (2, 1)
    assert count_correct([1.5], [1.5], "regression", ()) == (0, 0)
