"""The validation gate: task metrics (checked against scikit-learn) and the rules' verdicts."""

import numpy as np
import pytest
from sklearn import metrics as sk

from triggers.registry import (
    GateResult,
    GateRule,
    Metric,
    Predictions,
    RuleKind,
    check_rules,
    default_rules,
    judge,
    task_metrics,
)

RNG = np.random.default_rng(7)


def _binary() -> tuple[list[str], Predictions]:
    truth = RNG.choice(["no", "yes"], 300).tolist()
    scores = np.clip(np.where(np.array(truth) == "yes", 0.65, 0.35) + RNG.normal(0, 0.2, 300), 0, 1)
    labels = np.where(scores >= 0.5, "yes", "no")
    return truth, Predictions(labels, np.column_stack([1 - scores, scores]), ("no", "yes"))


def test_binary_metrics_agree_with_scikit_learn() -> None:
    truth, predictions = _binary()
    assert predictions.probabilities is not None
    scores = predictions.probabilities[:, 1]
    got = task_metrics("binary_classification", truth, predictions, ["no", "yes"])
    assert got[Metric.ACCURACY] == pytest.approx(sk.accuracy_score(truth, predictions.values))
    assert got[Metric.F1] == pytest.approx(sk.f1_score(truth, predictions.values, pos_label="yes"))
    assert got[Metric.ROC_AUC] == pytest.approx(sk.roc_auc_score(np.array(truth) == "yes", scores))
    assert got[Metric.LOG_LOSS] == pytest.approx(
        sk.log_loss(truth, predictions.probabilities, labels=["no", "yes"])
    )


def test_multiclass_metrics_agree_with_scikit_learn() -> None:
    classes = ["a", "b", "c"]
    truth = RNG.choice(classes, 400)
    raw = RNG.dirichlet([1, 1, 1], 400) + np.eye(3)[[classes.index(t) for t in truth]] * 0.5
    probabilities = raw / raw.sum(axis=1, keepdims=True)
    # The model's columns come in its own order; the metrics realign them to the class labels.
    order = [2, 0, 1]
    predictions = Predictions(
        np.array(classes)[probabilities.argmax(axis=1)],
        probabilities[:, order],
        tuple(classes[i] for i in order),
    )
    got = task_metrics("multiclass_classification", truth.tolist(), predictions, classes)
    assert got[Metric.ACCURACY] == pytest.approx(sk.accuracy_score(truth, predictions.values))
    assert got[Metric.F1] == pytest.approx(sk.f1_score(truth, predictions.values, average="macro"))
    assert got[Metric.ROC_AUC] == pytest.approx(
        sk.roc_auc_score(truth, probabilities, multi_class="ovr", labels=classes)
    )
    assert got[Metric.LOG_LOSS] == pytest.approx(sk.log_loss(truth, probabilities, labels=classes))


def test_regression_metrics_agree_with_scikit_learn() -> None:
    truth = RNG.normal(10, 3, 200)
    predicted = truth + RNG.normal(0, 1, 200)
    got = task_metrics("regression", truth.tolist(), Predictions(predicted), [])
    assert got[Metric.MAE] == pytest.approx(sk.mean_absolute_error(truth, predicted))
    assert got[Metric.RMSE] == pytest.approx(np.sqrt(sk.mean_squared_error(truth, predicted)))


def test_probability_metrics_are_absent_without_probabilities() -> None:
    truth, predictions = _binary()
    labels_only = Predictions(predictions.values)
    got = task_metrics("binary_classification", truth, labels_only, ["no", "yes"])
    assert got[Metric.ROC_AUC] is None and got[Metric.LOG_LOSS] is None


Metrics = dict[str, float | None]


def _judge(
    rules: tuple[GateRule, ...], candidate: Metrics, champion: Metrics | None, rows: int = 100
) -> GateResult:
    return judge(
        rules,
        candidate_version="2",
        candidate_metrics=candidate,
        champion_version=None if champion is None else "1",
        champion_metrics=champion,
        holdout_rows=rows,
        min_holdout_rows=30,
    )


AUC_NO_WORSE = GateRule(Metric.ROC_AUC, RuleKind.NO_WORSE_THAN, 0.01)


def test_no_worse_than_allows_a_drop_within_the_threshold() -> None:
    result = _judge((AUC_NO_WORSE,), {"roc_auc": 0.905}, {"roc_auc": 0.91})
    assert result.passed
    assert result.rules[0].gain == pytest.approx(-0.005)


def test_no_worse_than_refuses_a_larger_drop_and_says_by_how_much() -> None:
    result = _judge((AUC_NO_WORSE,), {"roc_auc": 0.85}, {"roc_auc": 0.91})
    assert not result.passed
    assert "breaks 'roc_auc no worse than @champion by more than 0.01'" in result.reason
    assert "gain -0.06" in result.reason


def test_at_least_better_needs_the_gain() -> None:
    rule = GateRule(Metric.ACCURACY, RuleKind.AT_LEAST_BETTER, 0.02)
    assert not _judge((rule,), {"accuracy": 0.91}, {"accuracy": 0.90}).passed
    assert _judge((rule,), {"accuracy": 0.93}, {"accuracy": 0.90}).passed


def test_lower_is_better_metrics_count_a_decrease_as_a_gain() -> None:
    rule = GateRule(Metric.LOG_LOSS, RuleKind.AT_LEAST_BETTER, 0.05)
    result = _judge((rule,), {"log_loss": 0.30}, {"log_loss": 0.40})
    assert result.passed
    assert result.rules[0].gain == pytest.approx(0.10)


def test_relative_rules_divide_by_the_champion() -> None:
    rule = GateRule(Metric.RMSE, RuleKind.NO_WORSE_THAN, 0.02, relative=True)
    assert _judge((rule,), {"rmse": 10.15}, {"rmse": 10.0}).passed
    assert not _judge((rule,), {"rmse": 10.3}, {"rmse": 10.0}).passed


def test_every_rule_must_hold() -> None:
    rules = (AUC_NO_WORSE, GateRule(Metric.ACCURACY, RuleKind.NO_WORSE_THAN, 0.0))
    result = _judge(rules, {"roc_auc": 0.95, "accuracy": 0.80}, {"roc_auc": 0.9, "accuracy": 0.85})
    assert not result.passed
    assert [outcome.passed for outcome in result.rules] == [True, False]


def test_a_metric_that_could_not_be_computed_fails_its_rule() -> None:
    result = _judge((AUC_NO_WORSE,), {"roc_auc": None}, {"roc_auc": 0.9})
    assert not result.passed
    assert "could not be computed for the candidate" in result.reason


def test_without_a_champion_the_first_candidate_passes() -> None:
    result = _judge((AUC_NO_WORSE,), {"roc_auc": 0.7}, None)
    assert result.passed
    assert "no @champion" in result.reason


def test_too_few_held_out_records_fail_the_gate() -> None:
    result = _judge((AUC_NO_WORSE,), {"roc_auc": 0.99}, {"roc_auc": 0.5}, rows=12)
    assert not result.passed
    assert "only 12 labelled records were held out; the gate needs 30" in result.reason


def test_result_serialises_the_metrics_and_verdict() -> None:
    document = _judge((AUC_NO_WORSE,), {"roc_auc": 0.95}, {"roc_auc": 0.9}).to_dict()
    assert document["verdict"] == "passed"
    assert document["rules"][0] == {
        "metric": "roc_auc",
        "rule": "no_worse_than",
        "threshold": 0.01,
        "relative": False,
        "candidate": 0.95,
        "champion": 0.9,
        "gain": pytest.approx(0.05),
        "passed": True,
        "reason": document["rules"][0]["reason"],
    }


def test_default_rules_suit_the_task() -> None:
    assert {r.metric for r in default_rules("binary_classification")} == {
        Metric.ACCURACY,
        Metric.ROC_AUC,
    }
    assert {r.metric for r in default_rules("regression")} == {Metric.RMSE}


def test_a_rule_on_a_metric_of_another_task_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"rules\[0\]\.metric: mae does not apply to binary"):
        check_rules("binary_classification", (GateRule(Metric.MAE, RuleKind.NO_WORSE_THAN, 1),))


def test_a_negative_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="must be a finite number >= 0"):
        GateRule(Metric.MAE, RuleKind.NO_WORSE_THAN, -1)
