"""PagerDuty events follow the Events API v2 as documented: the required fields, `event_action`
trigger on onset and resolve on resolution under one dedup key, and severities PagerDuty knows."""

from datetime import UTC, datetime

import pytest

from tests.notifications.formats import check_events_v2
from tests.notifications.samples import notification
from triggers.notifications import Phase
from triggers.notifications.pagerduty import pagerduty_event, pagerduty_request

ROUTING_KEY = "R0123456789abcdef0123456789ABCDE"
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def test_onset_triggers_with_the_required_fields() -> None:
    event = pagerduty_event(notification(), routing_key=ROUTING_KEY)
    check_events_v2(event)
    assert event["event_action"] == "trigger"
    assert event["payload"]["source"] == "model-monitor"
    assert event["payload"]["severity"] == "critical"


def test_onset_and_resolution_share_the_model_and_monitor_dedup_key() -> None:
    onset = pagerduty_event(notification(), routing_key=ROUTING_KEY)
    resolved = pagerduty_event(
        notification("drift.resolved", Phase.RESOLVED, severity="info"), routing_key=ROUTING_KEY
    )
    check_events_v2(resolved)
    assert resolved == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": "churn/drift",
    }
    assert onset["dedup_key"] == resolved["dedup_key"]


@pytest.mark.parametrize("severity", ["critical", "error", "warning", "info"])
def test_each_severity_maps_to_a_pagerduty_severity(severity: str) -> None:
    event = pagerduty_event(notification(severity=severity), routing_key=ROUTING_KEY)
    assert event["payload"]["severity"] == severity


def test_summary_names_the_model_and_the_drifted_features() -> None:
    summary = pagerduty_event(notification(), routing_key=ROUTING_KEY)["payload"]["summary"]
    assert summary.startswith("Drift detected: churn / drift - x1: psi 0.421 (threshold 0.2")
    assert "region: chi_squared 0.31 (threshold 0.1)" in summary


def test_trigger_links_to_the_dashboard_and_carries_the_event() -> None:
    event = pagerduty_event(notification(), routing_key=ROUTING_KEY)
    assert event["links"] == [
        {"href": "http://127.0.0.1:8000/dashboard/models/churn", "text": "Open in the dashboard"}
    ]
    details = event["payload"]["custom_details"]
    assert details["event_id"] == "evt_0123456789abcdef0123456789abcdef"
    assert details["drifting"] == ["region", "x1"]


def test_a_long_summary_is_cut_to_pagerdutys_limit() -> None:
    failed = notification("run.failed", severity="error", data={"error": "x" * 5000})
    event = pagerduty_event(failed, routing_key=ROUTING_KEY)
    check_events_v2(event)
    assert len(event["payload"]["summary"]) == 1024


def test_an_event_without_a_dedup_key_opens_its_own_incident() -> None:
    notice = notification("retrain.failed", Phase.NOTICE, dedup_key=None, severity="error")
    assert pagerduty_event(notice, routing_key=ROUTING_KEY)["dedup_key"] == notice.id


def test_request_goes_to_the_configured_events_url_and_hides_the_routing_key() -> None:
    options = {"events_url": "http://127.0.0.1:9/x"}
    request = pagerduty_request(notification(), {"routing_key": ROUTING_KEY}, options, NOW)
    assert request.url == "http://127.0.0.1:9/x"
    assert request.headers["content-type"] == "application/json"
    assert request.secrets == (ROUTING_KEY,)
    assert ROUTING_KEY not in repr(request)
