"""Which records of a window a version's monitoring judges: the champion's stable traffic, or
every record of one pinned version; a `last_records` window counts only the records it keeps."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session

from monitor.entities.registered_model import RegisteredModel
from monitor.windows.reader import VersionScope, Window, load_window
from tests.factories import model_payload, record

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# (request id, model_version, variant), one a minute, oldest first.
SERVED = [
    ("plain", None, None),
    ("v1-stable", "1", "stable"),
    ("v1-untagged", "1", None),
    ("v2-canary", "2", "canary"),
    ("v2-shadow", "2", "shadow"),
    ("unversioned-stable", None, "stable"),
    ("v2-stable", "2", "stable"),
]


@pytest.fixture
def served(client: TestClient, admin: dict[str, str], ingest: dict[str, str]) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    records = []
    for minute, (request_id, version, variant) in enumerate(SERVED):
        item = record(request_id, timestamp=(START + timedelta(minutes=minute)).isoformat())
        item.update({k: v for k, v in (("model_version", version), ("variant", variant)) if v})
        records.append(item)
    reply = client.post(
        "/api/v1/models/churn/inferences", json={"records": records}, headers=ingest
    )
    assert reply.status_code == 202, reply.text


def _ids(engine: Engine, scope: VersionScope | None, last: int | None = None) -> list[str]:
    window = Window(start=START, end=START + timedelta(hours=1), last=last)
    with Session(engine) as session:
        model = session.exec(select(RegisteredModel)).scalars().one()  # type: ignore[call-overload]
        table = load_window(session.connection(), model.id, model.data_schema, window, scope)
    return table.column("request_id").to_pylist()


@pytest.mark.usefixtures("served")
def test_a_champion_window_holds_its_stable_and_untagged_records_only(engine: Engine) -> None:
    assert _ids(engine, VersionScope("1")) == [
        "plain",
        "v1-stable",
        "v1-untagged",
        "unversioned-stable",
    ]


@pytest.mark.usefixtures("served")
def test_with_no_champion_known_every_stable_record_counts(engine: Engine) -> None:
    assert _ids(engine, VersionScope(None)) == [
        "plain",
        "v1-stable",
        "v1-untagged",
        "unversioned-stable",
        "v2-stable",
    ]


@pytest.mark.usefixtures("served")
def test_a_pinned_version_holds_every_record_of_it_whatever_served_it(engine: Engine) -> None:
    pinned = VersionScope("2", stable_only=False)
    assert _ids(engine, pinned) == ["v2-canary", "v2-shadow", "v2-stable"]


@pytest.mark.usefixtures("served")
def test_a_last_records_window_counts_only_the_scopes_records(engine: Engine) -> None:
    assert _ids(engine, VersionScope("1"), last=2) == ["v1-untagged", "unversioned-stable"]


@pytest.mark.usefixtures("served")
def test_without_a_scope_a_window_holds_every_record(engine: Engine) -> None:
    assert _ids(engine, None) == [request_id for request_id, _, _ in SERVED]
