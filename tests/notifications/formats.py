"""The vendors' documented payload rules, as checks: Slack Block Kit (api.slack.com/reference/
block-kit) and PagerDuty Events API v2 (developer.pagerduty.com, "Send an Alert Event")."""

from typing import Any

BLOCK_TYPES = {"header", "section", "context", "actions", "divider"}


def _check_text(obj: dict[str, Any], *, types: set[str], limit: int) -> None:
    assert obj["type"] in types
    assert isinstance(obj["text"], str) and 0 < len(obj["text"]) <= limit


def check_block_kit(message: dict[str, Any]) -> None:
    """The constraints of Slack's Block Kit reference that a message can break."""
    assert isinstance(message["text"], str) and message["text"]
    blocks = message["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        assert block["type"] in BLOCK_TYPES
        if block["type"] == "header":
            _check_text(block["text"], types={"plain_text"}, limit=150)
        elif block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                _check_text(block["text"], types={"mrkdwn", "plain_text"}, limit=3000)
            for field in block.get("fields", []):
                _check_text(field, types={"mrkdwn", "plain_text"}, limit=2000)
            assert len(block.get("fields", [])) <= 10
        elif block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            for element in block["elements"]:
                _check_text(element, types={"mrkdwn", "plain_text"}, limit=3000)
        elif block["type"] == "actions":
            for element in block["elements"]:
                assert element["type"] == "button"
                _check_text(element["text"], types={"plain_text"}, limit=75)
                assert element["url"].startswith("http") and len(element["url"]) <= 3000


EVENT_ACTIONS = {"trigger", "acknowledge", "resolve"}
SEVERITIES = {"critical", "error", "warning", "info"}


def check_events_v2(event: dict[str, Any]) -> None:
    """The Events API v2 rules a sender can break (developer.pagerduty.com, Send an Alert)."""
    assert len(event["routing_key"]) == 32
    assert event["event_action"] in EVENT_ACTIONS
    assert 0 < len(event["dedup_key"]) <= 255
    if event["event_action"] == "trigger":
        payload = event["payload"]
        assert 0 < len(payload["summary"]) <= 1024
        assert payload["source"]
        assert payload["severity"] in SEVERITIES
        for link in event.get("links", []):
            assert link["href"].startswith("http")
