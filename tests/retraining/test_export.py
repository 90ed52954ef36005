"""The training export: the reference plus recent production records joined to their labels,
with the newest labelled records held out for the gate."""

from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from monitor.retraining.candidate_reference import champion_reference_id
from monitor.retraining.export import ExportSummary, build_export
from monitor.services import models
from monitor.store.types import utc_now
from monitor.windows.reader import Window
from tests.retraining.scenario import CANCER, REFERENCE_ROWS, cancer_frame, upload_cancer_data


def _export(engine: Engine, directory: Path, fraction: float = 0.3) -> ExportSummary:
    with Session(engine) as session:
        model = models.get_model(session=session, name=CANCER)
        reference_id = champion_reference_id(session, model)
    end = utc_now() + timedelta(minutes=1)
    with engine.connect() as connection:
        return build_export(
            connection,
            model_id=model.id,  # type: ignore[arg-type]
            schema=model.data_schema,
            window=Window(start=end - timedelta(days=1), end=end),
            holdout_fraction=fraction,
            directory=directory,
            reference_id=reference_id,
        )


def test_export_holds_the_reference_and_the_labelled_production_records(
    client: TestClient, admin: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    production = upload_cancer_data(client, admin)
    summary = _export(engine, tmp_path)
    training = pq.read_table(summary.training_path).to_pandas()
    holdout = pq.read_table(summary.holdout_path).to_pandas()

    assert summary.rows_reference == REFERENCE_ROWS
    assert summary.rows_labelled == len(production)
    assert summary.rows_holdout == len(holdout) == 96  # ceil(319 * 0.3)
    assert summary.rows_production == len(production) - 96
    assert (training["source"] == "reference").sum() == REFERENCE_ROWS
    expected = dict(
        zip(production.index.map(lambda i: f"req-{i}"), production["label"], strict=True)
    )
    exported = training.dropna(subset=["request_id"])
    assert dict(zip(exported["request_id"], exported["label"], strict=True)) == {
        rid: expected[rid] for rid in exported["request_id"]
    }
    assert list(training.columns) == [*cancer_frame().columns, "source", "request_id", "timestamp"]


def test_the_newest_labelled_records_are_held_out(
    client: TestClient, admin: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    upload_cancer_data(client, admin)
    summary = _export(engine, tmp_path)
    training = pq.read_table(summary.training_path).to_pandas().dropna(subset=["timestamp"])
    holdout = pq.read_table(summary.holdout_path).to_pandas()
    assert holdout["timestamp"].min() > training["timestamp"].max()
    assert set(holdout["request_id"]).isdisjoint(training["request_id"])


def test_unlabelled_records_are_exported_with_a_null_label(
    client: TestClient, admin: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    upload_cancer_data(client, admin)
    features = {name: 1.0 for name in cancer_frame().columns if name != "label"}
    client.post(
        f"/api/v1/models/{CANCER}/inferences",
        json={"records": [{"request_id": "unlabelled", "features": features, "prediction": 0.5}]},
        headers=admin,
    )
    training = pq.read_table(_export(engine, tmp_path).training_path).to_pandas()
    row = training[training["request_id"] == "unlabelled"]
    assert len(row) == 1 and row["label"].isna().all()
