"""Text no store can keep (NUL, an unpaired surrogate) is a 422 naming the field, not a 500."""

from typing import Any

from fastapi.testclient import TestClient


def _refusal(client: TestClient, body: str, headers: dict[str, str]) -> dict[str, Any]:
    """POST the JSON text as it is (the client would re-encode a Python string)."""
    reply = client.post(
        "/api/v1/models",
        content=body.encode(),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert reply.status_code == 422, reply.text
    detail: dict[str, Any] = reply.json()["detail"][0]
    return detail


def test_a_nul_character_in_a_feature_name_is_refused_naming_the_feature(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = (
        '{"name": "churn", "task": "regression", '
        '"features": [{"name": "age", "kind": "numerical"}, {"name": "a\\u0000b", '
        '"kind": "numerical"}]}'
    )
    detail = _refusal(client, body, admin)
    assert detail["loc"] == ["body", "features", 1, "name"]
    assert "NUL" in detail["msg"]
    assert client.get("/api/v1/models/churn", headers=admin).status_code == 404


def test_an_unpaired_surrogate_in_a_description_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = (
        '{"name": "churn", "task": "regression", "description": "x\\ud800", '
        '"features": [{"name": "age", "kind": "numerical"}]}'
    )
    detail = _refusal(client, body, admin)
    assert detail["loc"] == ["body", "description"]


def test_an_escaped_backslash_before_u0000_is_ordinary_text(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = (
        '{"name": "churn", "task": "regression", "description": "C:\\\\u0000", '
        '"features": [{"name": "age", "kind": "numerical"}]}'
    )
    reply = client.post(
        "/api/v1/models",
        content=body.encode(),
        headers={**admin, "Content-Type": "application/json"},
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["description"] == "C:\\u0000"
