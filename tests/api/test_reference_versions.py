"""References per model version: the upload names the version it validates (or takes the
champion's), each version keeps its own active one, and every reference stays as history."""

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.factories import endpoint_payload, model_payload, parquet_body

MODEL = "/api/v1/models/churn"


def _frame(rows: int = 60) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20.0 + i % 50 for i in range(rows)],
            "plan": [["free", "pro"][i % 2] for i in range(rows)],
            "vip": [i % 7 == 0 for i in range(rows)],
            "prediction": [(i % 10) / 10 for i in range(rows)],
        }
    )


def _upload(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, object]:
    reply = client.post(
        f"{MODEL}/reference",
        content=parquet_body(_frame()),
        headers={**headers, "content-type": "application/x-parquet"},
        params=params,
    )
    assert reply.status_code == 201, reply.text
    body: dict[str, object] = reply.json()
    return body


@pytest.fixture
def churn(client: TestClient, admin: dict[str, str]) -> TestClient:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    return client


def test_an_upload_without_a_version_and_no_champion_is_unversioned(
    churn: TestClient, admin: dict[str, str]
) -> None:
    assert _upload(churn, admin)["model_version"] is None


def test_an_upload_without_a_version_belongs_to_the_current_champion(
    churn: TestClient, admin: dict[str, str]
) -> None:
    stable = endpoint_payload("blue", model_version="4")
    assert churn.post(f"{MODEL}/endpoints", json=stable, headers=admin).status_code == 201
    assert _upload(churn, admin)["model_version"] == "4"


def test_a_multipart_upload_names_its_version_in_a_form_field(
    churn: TestClient, admin: dict[str, str]
) -> None:
    reply = churn.post(
        f"{MODEL}/reference",
        files={"file": ("reference.csv", _frame().to_csv(index=False).encode(), "text/csv")},
        data={"model_version": "7"},
        headers=admin,
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["model_version"] == "7"


def test_a_version_given_twice_differently_is_refused_naming_the_field(
    churn: TestClient, admin: dict[str, str]
) -> None:
    reply = churn.post(
        f"{MODEL}/reference",
        params={"model_version": "7"},
        files={"file": ("reference.csv", _frame().to_csv(index=False).encode(), "text/csv")},
        data={"model_version": "8"},
        headers=admin,
    )
    assert reply.status_code == 422
    assert "model_version" in reply.text and "give the version once" in reply.text


def test_each_version_keeps_its_own_active_reference_and_all_stay_as_history(
    churn: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    first = _upload(churn, admin, model_version="1")
    second = _upload(churn, admin, model_version="2")
    replaced = _upload(churn, admin, model_version="1")

    reply = churn.get(f"{MODEL}/references", headers=reader)

    assert reply.status_code == 200
    history = {r["id"]: (r["model_version"], r["status"]) for r in reply.json()["data"]}
    assert history == {
        first["id"]: ("1", "superseded"),
        second["id"]: ("2", "active"),
        replaced["id"]: ("1", "active"),
    }
    assert reply.json()["count"] == 3
    one = churn.get(f"{MODEL}/reference", params={"model_version": "1"}, headers=reader)
    assert one.json()["id"] == replaced["id"]


def test_a_version_without_its_own_reference_reads_the_unversioned_one(
    churn: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    unversioned = _upload(churn, admin)
    _upload(churn, admin, model_version="2")
    reply = churn.get(f"{MODEL}/reference", params={"model_version": "9"}, headers=reader)
    assert reply.json()["id"] == unversioned["id"]


def test_a_version_with_no_reference_at_all_says_how_to_upload_one(
    churn: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    _upload(churn, admin, model_version="2")
    reply = churn.get(f"{MODEL}/reference", params={"model_version": "3"}, headers=reader)
    assert reply.status_code == 404
    assert "reference?model_version=3" in reply.text


def test_the_champion_history_starts_with_the_first_stable_endpoints_version(
    churn: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    for name, version in (("blue", "4"), ("green", "5")):
        payload = endpoint_payload(name, model_version=version)
        assert churn.post(f"{MODEL}/endpoints", json=payload, headers=admin).status_code == 201
    reply = churn.get(f"{MODEL}/champions", headers=reader)
    assert [(c["model_version"], c["source"]) for c in reply.json()["data"]] == [("4", "endpoint")]
