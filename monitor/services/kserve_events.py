"""Landing KServe payload-logger events: each half is checked against the model's schema when
it arrives, kept until its other half comes, and the complete pair is written as inference
records, exactly as the inferences API writes them, in the same transaction that ends the wait."""

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from monitor.entities.kserve_pair import EventAccepted, ExpiredPairs, PairingStatus
from monitor.entities.registered_model import RegisteredModel
from monitor.ingest.errors import BatchRejected, ErrorCollector
from monitor.ingest.records import InferenceRow, validate_feature_rows
from monitor.ingest.writers import write_inferences
from monitor.kserve import pairing
from monitor.kserve.cloudevent import Half, InferenceEvent
from monitor.kserve.payloads import (
    request_features,
    response_model_version,
    response_predictions,
)
from monitor.settings import Settings
from monitor.store.types import utc_now
from monitor.windows.store import write_segment

log = logging.getLogger(__name__)
# The agent logs a response only when the model answered 200.
LOGGED_STATUS = 200


def _half_content(
    model: RegisteredModel, event: InferenceEvent, payload: Any, output: str | None
) -> dict[str, Any]:
    """The checked half, as stored while it waits."""
    schema = model.data_schema
    time = event.time.isoformat() if event.time else None
    if event.half is Half.REQUEST:
        rows = request_features(schema, payload)
        root = "instances" if isinstance(payload, dict) and "instances" in payload else "inputs"
        features = validate_feature_rows(schema, rows, ("body", root))
        return {"time": time, "variant": event.variant, "features": features}
    predictions = response_predictions(schema, payload, output)
    return {
        "time": time,
        "variant": event.variant,
        "model_version": response_model_version(payload),
        "predictions": predictions,
    }


def _records(
    event_id: str, request: dict[str, Any], response: dict[str, Any], now: datetime
) -> list[InferenceRow]:
    features, predictions = request["features"], response["predictions"]
    if len(features) != len(predictions):
        errors = ErrorCollector()
        errors.add(
            ("body",),
            f"the response of ce-id {event_id!r} holds {len(predictions)} predictions but its "
            f"request {len(features)} instances; both events must describe the same call",
            "value_error.count_mismatch",
        )
        raise BatchRejected(errors, "records")
    requested = datetime.fromisoformat(request["time"]) if request["time"] else None
    answered = datetime.fromisoformat(response["time"]) if response["time"] else None
    latency = (answered - requested) / timedelta(milliseconds=1) if requested and answered else None
    return [
        InferenceRow(
            request_id=request_id,
            timestamp=requested or answered or now,
            model_version=response["model_version"],
            variant=request["variant"] or response["variant"],
            features=row,
            prediction=prediction,
            latency_ms=latency if latency is not None and latency >= 0 else None,
            status_code=LOGGED_STATUS,
        )
        for request_id, row, prediction in zip(
            pairing.record_ids(event_id, len(features)), features, predictions, strict=True
        )
    ]


def ingest_event(
    *,
    session: Session,
    model: RegisteredModel,
    event: InferenceEvent,
    payload: Any,
    output: str | None = None,
) -> EventAccepted:
    """Check this half, then store it or complete its pair; returns only after the commit.
    A half that does not fit the schema raises `BatchRejected` and nothing is stored."""
    assert model.id is not None
    now = utc_now()
    content = _half_content(model, event, payload, output)
    connection = session.connection()
    pair = pairing.offer(
        connection,
        model_id=model.id,
        event_id=event.event_id,
        half=event.half,
        content=content,
        now=now,
    )
    if pair is None:
        session.commit()
        return EventAccepted(outcome="duplicate", accepted=0, duplicates=0)
    if not pair.complete:
        if pairing.already_landed(connection, model.id, event.event_id):
            pairing.remove(connection, pair.row_id)  # a half repeated after its pair landed
            session.commit()
            return EventAccepted(outcome="duplicate", accepted=0, duplicates=0)
        session.commit()
        return EventAccepted(outcome="waiting", accepted=0, duplicates=0)
    assert pair.request is not None and pair.response is not None
    rows = _records(event.event_id, pair.request, pair.response, now)
    inserted = write_inferences(connection, model.id, rows, now)
    write_segment(connection, model.id, model.data_schema, inserted, now)
    pairing.remove(connection, pair.row_id)
    session.commit()
    return EventAccepted(
        outcome="landed", accepted=len(inserted), duplicates=len(rows) - len(inserted)
    )


def pairing_status(
    *, session: Session, model: RegisteredModel, settings: Settings
) -> PairingStatus:
    assert model.id is not None
    waiting = pairing.waiting(session.connection(), model.id)
    expired = session.get(ExpiredPairs, model.id)
    return PairingStatus(
        waiting_requests=waiting.requests,
        waiting_responses=waiting.responses,
        oldest_waiting_since=waiting.oldest,
        expired_requests=expired.requests if expired else 0,
        expired_responses=expired.responses if expired else 0,
        wait_seconds=settings.kserve_pair_wait_seconds,
    )


def expire_unpaired(*, engine: Engine, settings: Settings, now: datetime) -> int:
    """Drop halves that waited longer than the setting for their other half, counting them per
    model; bounded batches, each its own transaction. Returns how many were dropped."""
    cutoff = now - timedelta(seconds=settings.kserve_pair_wait_seconds)
    dropped = 0
    while True:
        with engine.begin() as connection:
            batch = pairing.oldest_unpaired(connection, cutoff, settings.retention_batch_rows)
            for unpaired in batch:
                pairing.remove(connection, unpaired.row_id)
            _count_expired(connection, Counter((u.model_id, u.waited_for) for u in batch))
        dropped += len(batch)
        if len(batch) < settings.retention_batch_rows:
            break
    if dropped:
        log.warning(
            "dropped %d KServe payload-logger events whose other half never arrived within "
            "%g s (see GET /api/v1/models/{model}/kserve/pending)",
            dropped,
            settings.kserve_pair_wait_seconds,
        )
    return dropped


def _count_expired(connection: Connection, counts: Counter[tuple[int, Half]]) -> None:
    table = ExpiredPairs.__table__  # type: ignore[attr-defined]
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    for model_id in {model_id for model_id, _ in counts}:
        # A request that waited in vain is counted as an expired request, and so on.
        requests = counts[(model_id, Half.RESPONSE)]
        responses = counts[(model_id, Half.REQUEST)]
        insert = dialect.insert(table).values(
            model_id=model_id, requests=requests, responses=responses
        )
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=["model_id"],
                set_={
                    "requests": table.c.requests + insert.excluded.requests,
                    "responses": table.c.responses + insert.excluded.responses,
                },
            )
        )
