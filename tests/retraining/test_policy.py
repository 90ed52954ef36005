"""The trigger policy: event type, minimum severity, models and monitors."""

import pytest

from triggers.retraining import TriggerPolicy

POLICY = TriggerPolicy(("drift.detected",), "warning", ("churn",))


def test_policy_matches_its_event_type_at_its_severity() -> None:
    assert POLICY.matches(event_type="drift.detected", severity="warning", model="churn")


def test_policy_matches_graver_severities() -> None:
    assert POLICY.matches(event_type="drift.detected", severity="critical", model="churn")


def test_policy_ignores_milder_severities() -> None:
    assert not POLICY.matches(event_type="drift.detected", severity="info", model="churn")


def test_policy_ignores_other_event_types() -> None:
    assert not POLICY.matches(event_type="drift.resolved", severity="critical", model="churn")


def test_policy_ignores_other_models() -> None:
    assert not POLICY.matches(event_type="drift.detected", severity="critical", model="fraud")


def test_policy_without_models_covers_every_model() -> None:
    policy = TriggerPolicy(("drift.detected",), "warning")
    assert policy.matches(event_type="drift.detected", severity="error", model="fraud")


def test_policy_naming_monitors_ignores_other_monitors_events() -> None:
    policy = TriggerPolicy(("drift.detected",), "warning", ("churn",), ("drift",))
    fields = {"event_type": "drift.detected", "severity": "critical", "model": "churn"}
    assert policy.matches(**fields, monitor="drift")
    assert not policy.matches(**fields, monitor="explain")
    assert not policy.matches(**fields)  # an event no monitor raised


def test_unknown_severity_never_matches() -> None:
    assert not POLICY.matches(event_type="drift.detected", severity="dire", model="churn")


def test_invalid_minimum_severity_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match=r"min_severity: 'loud'.*info, warning, error, critical"):
        TriggerPolicy(("drift.detected",), "loud")
