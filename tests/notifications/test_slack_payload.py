"""Slack messages follow Block Kit as documented: header, sections, context and actions blocks,
mrkdwn text, a `text` fallback, and Slack's size limits."""

from typing import Any

from tests.notifications.formats import check_block_kit
from tests.notifications.samples import notification
from triggers.notifications import Phase
from triggers.notifications.slack import slack_message


def _all_text(message: dict[str, Any]) -> str:
    return repr(message["blocks"])


def test_drift_message_is_valid_block_kit() -> None:
    check_block_kit(slack_message(notification()))


def test_drift_message_names_the_model_the_features_statistics_and_thresholds() -> None:
    message = slack_message(notification())
    text = _all_text(message)
    assert "Drift detected: churn / drift" in message["blocks"][0]["text"]["text"]
    assert "x1: psi 0.421 (threshold 0.2, p 3.1e-05)" in text
    assert "region: chi_squared 0.31 (threshold 0.1)" in text
    assert message["text"] == "Drift detected: churn / drift (critical): x1, region"
    assert {"type": "mrkdwn", "text": "*Rows*\n2,000"} in message["blocks"][1]["fields"]


def test_drift_message_links_to_the_dashboard() -> None:
    actions = [b for b in slack_message(notification())["blocks"] if b["type"] == "actions"]
    assert actions[0]["elements"][0]["url"] == "http://127.0.0.1:8000/dashboard/models/churn"


def test_resolved_message_says_the_columns_are_back() -> None:
    resolved = notification(
        "drift.resolved",
        Phase.RESOLVED,
        severity="info",
        data={"monitor": "drift", "drifting": [], "results": []},
    )
    message = slack_message(resolved)
    check_block_kit(message)
    assert (
        message["blocks"][0]["text"]["text"] == ":white_check_mark: Drift resolved: churn / drift"
    )
    assert "back within its thresholds" in _all_text(message)


def test_run_failure_message_quotes_the_error() -> None:
    failed = notification(
        "run.failed", severity="error", data={"monitor": "drift", "run_id": 3, "error": "boom"}
    )
    message = slack_message(failed)
    check_block_kit(message)
    assert "```boom```" in _all_text(message)


def test_names_with_mrkdwn_control_characters_are_escaped() -> None:
    result = {"column": "<!channel>&co", "test": "psi", "statistic": 1.0, "threshold": 0.2}
    tricky = notification(data={"monitor": "drift", "results": [{**result, "drifted": True}]})
    text = _all_text(slack_message(tricky))
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;&amp;co" in text


def test_many_drifted_columns_stay_within_slack_limits() -> None:
    results = [
        {"column": f"feature_{i:03d}_" + "x" * 100, "test": "psi", "statistic": 0.5}
        | {"threshold": 0.2, "p_value": 0.001, "drifted": True}
        for i in range(300)
    ]
    message = slack_message(notification(data={"monitor": "drift", "results": results}))
    check_block_kit(message)
    assert "and 285 more in the dashboard" in _all_text(message)


def test_message_without_a_dashboard_link_has_no_button() -> None:
    message = slack_message(notification(dashboard_url=None))
    check_block_kit(message)
    assert all(b["type"] != "actions" for b in message["blocks"])
