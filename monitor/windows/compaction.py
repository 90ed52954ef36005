"""Merging small segments (single-record requests make one each) into large ones, so a window
read stays a few hundred blobs however the traffic arrived."""

from collections.abc import Iterator, Sequence
from datetime import timedelta

from sqlalchemy import Engine, delete, select
from sqlmodel import Session

from monitor.entities.registered_model import RegisteredModel
from monitor.entities.segment import InferenceSegment
from monitor.store.types import utc_now
from monitor.windows.segments import TIMESTAMP, decode_segments, encode_table

TARGET_ROWS = 65_536
SMALL_ROWS = TARGET_ROWS // 4
SETTLE = timedelta(seconds=30)  # leave the newest segments alone while traffic still lands

_segment = InferenceSegment.__table__  # type: ignore[attr-defined]


def _groups(sizes: Sequence[tuple[int, int]]) -> Iterator[list[int]]:
    """Consecutive segment ids whose rows add up to at most TARGET_ROWS, two or more each."""
    group: list[int] = []
    rows = 0
    for segment_id, count in sizes:
        if group and rows + count > TARGET_ROWS:
            if len(group) > 1:
                yield group
            group, rows = [], 0
        group.append(segment_id)
        rows += count
    if len(group) > 1:
        yield group


def compact_model(engine: Engine, model: RegisteredModel, settle: timedelta = SETTLE) -> int:
    """Merge the model's settled small segments; returns how many segments were removed."""
    cutoff = utc_now() - settle
    with Session(engine) as session:
        sizes = session.execute(
            select(_segment.c.id, _segment.c.row_count)
            .where(_segment.c.model_id == model.id)
            .where(_segment.c.row_count < SMALL_ROWS)
            .where(_segment.c.created_at < cutoff)
            .order_by(_segment.c.min_timestamp, _segment.c.id)
        ).all()
    removed = 0
    for group in _groups([(row[0], row[1]) for row in sizes]):
        with Session(engine) as session:
            blobs = session.execute(
                select(_segment.c.arrow).where(_segment.c.id.in_(group))
            ).scalars()
            table = decode_segments(model.data_schema, blobs).sort_by(TIMESTAMP)
            times = table.column(TIMESTAMP)
            session.execute(
                _segment.insert().values(
                    model_id=model.id,
                    min_timestamp=times[0].as_py(),
                    max_timestamp=times[-1].as_py(),
                    row_count=table.num_rows,
                    arrow=encode_table(table),
                    created_at=utc_now(),
                )
            )
            session.execute(delete(_segment).where(_segment.c.id.in_(group)))
            session.commit()
        removed += len(group) - 1
    return removed


def compact_all(engine: Engine) -> int:
    with Session(engine) as session:
        models = session.execute(select(RegisteredModel)).scalars().all()
    return sum(compact_model(engine, model) for model in models)
