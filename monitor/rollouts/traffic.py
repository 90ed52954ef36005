"""What each variant served during a rollout step, read from the logged inference records (and
their labels) into the canary analysis' inputs."""

from datetime import datetime

import numpy as np
from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from monitor.entities.inference import InferenceRecord, Variant
from monitor.entities.label import GroundTruthLabel
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.rollout import Rollout
from triggers.canary.analysis import VariantTraffic
from triggers.canary.labels import count_correct

# Latencies, predictions and labels are judged on the newest this many records of a variant:
# enough for a p99 and PSI bins, and a bounded read however long a step bakes.
SAMPLE_ROWS = 20_000


def step_traffic(
    session: Session, rollout: Rollout, model: RegisteredModel, now: datetime
) -> tuple[VariantTraffic, VariantTraffic]:
    """(stable, canary) since the step started. A step at 100% sends the stable variant
    nothing, so its baseline is the stable traffic since the rollout began."""
    baseline_since = rollout.created_at if rollout.weight == 100 else rollout.step_started_at
    return (
        variant_traffic(session, model, Variant.STABLE, baseline_since, now),
        variant_traffic(session, model, Variant.CANARY, rollout.step_started_at, now),
    )


def variant_traffic(
    session: Session, model: RegisteredModel, variant: Variant, start: datetime, end: datetime
) -> VariantTraffic:
    """One variant's records with `start <= timestamp < end`."""
    in_range = and_(
        col(InferenceRecord.model_id) == model.id,
        col(InferenceRecord.timestamp) >= start,
        col(InferenceRecord.timestamp) < end,
        col(InferenceRecord.variant) == variant.value,
    )
    failed = col(InferenceRecord.status_code) >= 400
    requests, errors = session.exec(
        select(func.count(), func.coalesce(func.sum(case((failed, 1), else_=0)), 0)).where(in_range)
    ).one()
    served = session.exec(
        select(InferenceRecord.latency_ms, InferenceRecord.prediction, GroundTruthLabel.value)
        .outerjoin(
            GroundTruthLabel,
            and_(
                col(GroundTruthLabel.model_id) == col(InferenceRecord.model_id),
                col(GroundTruthLabel.request_id) == col(InferenceRecord.request_id),
            ),
        )
        .where(in_range)
        .where(or_(col(InferenceRecord.status_code).is_(None), ~failed))
        .order_by(col(InferenceRecord.timestamp).desc())
        .limit(SAMPLE_ROWS)
    ).all()
    latencies = np.array(
        [np.nan if latency is None else latency for latency, _, _ in served], dtype=np.float64
    )
    predictions = [prediction for _, prediction, _ in served]
    labelled, correct = count_correct(
        predictions,
        [label for _, _, label in served],
        str(model.task),
        model.class_labels or (),
    )
    return VariantTraffic(
        requests=int(requests),
        errors=int(errors),
        latencies_ms=latencies,
        predictions=predictions,
        labelled=labelled,
        correct=correct,
    )
