"""The candidate's reference: the held-out evaluation records of its retraining run (features,
the candidate's own predictions on them, their labels), none of which it was fitted on; or the
file its pipeline handed back. Stored as the candidate version's reference, so a promotion
re-baselines the monitors on records that judge that very version."""

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine
from sqlmodel import Session

from monitor.entities.reference import ReferenceSource
from monitor.entities.registered_model import ModelSchema, RegisteredModel, Task
from monitor.ingest.reference import LABEL, PREDICTION, ReferenceFormat
from monitor.services.errors import NotFound, Unprocessable
from monitor.services.references import reference_for, store_reference
from monitor.versions.champion import current_champion
from triggers.registry.metrics import Predictions
from triggers.retraining import PipelineResult

log = logging.getLogger(__name__)

REFERENCE_FILE = "candidate-reference.parquet"


def champion_reference_id(session: Session, model: RegisteredModel) -> int | None:
    """The reference the champion is judged against now (the training export's reference
    rows); None where the model has none."""
    try:
        version = current_champion(session=session, model=model)
        return reference_for(session=session, model=model, version=version).id
    except NotFound:
        return None


def _prediction_column(schema: ModelSchema, predictions: Predictions) -> pa.Array:
    """The reference's `prediction`: a binary model's positive-class probability where it has
    probabilities, else the predicted label (classifiers) or value (regression)."""
    if schema.task is Task.REGRESSION:
        return pa.array(np.asarray(predictions.values, dtype=float), pa.float64())
    labels = schema.class_labels or []
    binary = schema.task is Task.BINARY_CLASSIFICATION and len(labels) == 2
    if binary and predictions.probabilities is not None and labels[1] in predictions.classes:
        column = predictions.classes.index(labels[1])
        return pa.array(predictions.probabilities[:, column], pa.float64())
    return pa.array(np.asarray(predictions.values, dtype=str), pa.string())


def write_holdout_reference(
    holdout: pa.Table, schema: ModelSchema, predictions: Predictions, directory: Path
) -> Path:
    """`holdout` (features and labels) with the candidate's predictions, as a reference file."""
    table = holdout.select(schema.feature_names)
    table = table.append_column(PREDICTION, _prediction_column(schema, predictions))
    table = table.append_column(LABEL, holdout.column(LABEL))
    path = directory / REFERENCE_FILE
    pq.write_table(table, path, compression="zstd")
    return path


def handed_back(directory: Path, name: str) -> Path:
    """The reference file a pipeline named in its result, inside its run directory."""
    path = (directory / name).resolve()
    if not path.is_relative_to(directory.resolve()) or not path.is_file():
        raise Unprocessable(
            "reference",
            f"the pipeline's result names the reference file {name!r}, which is not a file in "
            f"its run directory {directory}; write it there and give its name",
        )
    return path


def register_reference(
    engine: Engine,
    *,
    model: RegisteredModel,
    version: str,
    path: Path,
    run_id: int,
    rows_per_chunk: int,
) -> int:
    """Store `path` as `version`'s reference; returns its id."""
    with Session(engine, expire_on_commit=False) as session:
        stored = store_reference(
            session=session,
            model=model,
            path=path,
            fmt=ReferenceFormat.detect(None, path.name),
            rows_per_chunk=rows_per_chunk,
            model_version=version,
            source=ReferenceSource.RETRAINING,
            retraining_run_id=run_id,
        )
    return stored.id


@dataclass(frozen=True, slots=True)
class CandidateReference:
    id: int | None
    rows: int = 0
    source: str = ""
    error: str | None = None

    def describe(self) -> str:
        if self.id is None:
            return f"no reference was stored for the candidate: {self.error}"
        return f"reference {self.id}: {self.rows} {self.source} records"


def store_candidate_reference(
    engine: Engine,
    *,
    directory: Path,
    rows_per_chunk: int,
    run_id: int,
    model: RegisteredModel,
    version: str,
    holdout: pa.Table,
    scored: Predictions | None,
    result: PipelineResult,
) -> CandidateReference:
    """Store the candidate's reference: the file its pipeline handed back, else its held-out
    records with its own predictions. A reference that cannot be made is reported, not fatal:
    the version can still be validated, and given a reference by upload."""
    try:
        if result.reference:
            path, source = handed_back(directory, result.reference), "handed back by the pipeline"
        elif scored is not None and holdout.num_rows:
            path = write_holdout_reference(holdout, model.data_schema, scored, directory)
            source = "held-out"
        else:
            return CandidateReference(None, error="no held-out records the candidate could score")
        reference_id = register_reference(
            engine,
            model=model,
            version=version,
            path=path,
            run_id=run_id,
            rows_per_chunk=rows_per_chunk,
        )
    except (Unprocessable, OSError) as error:
        log.warning("retraining run %s: the candidate's reference was refused: %s", run_id, error)
        return CandidateReference(None, error=str(error))
    rows = pq.read_metadata(path).num_rows
    return CandidateReference(reference_id, rows, source)
