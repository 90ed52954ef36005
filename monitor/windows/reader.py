"""Loading a monitoring window: the segments that overlap it, decoded and trimmed to it."""

from dataclasses import dataclass, replace
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, or_, select

from monitor.entities.inference import InferenceRecord
from monitor.entities.registered_model import ModelSchema
from monitor.entities.segment import InferenceSegment
from monitor.ingest.records import FIRST_ERROR_STATUS
from monitor.windows.segments import TIMESTAMP, decode_segments

_segment = InferenceSegment.__table__  # type: ignore[attr-defined]
_record = InferenceRecord.__table__  # type: ignore[attr-defined]
_TIME = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True, slots=True)
class Window:
    """Records with `start <= timestamp < end`; with `last` set, only the newest `last` of them."""

    start: datetime
    end: datetime
    last: int | None = None


def _narrow_to_last(connection: Connection, model_id: int, window: Window) -> Window:
    """Move the start up to the timestamp of the `last`-th newest record that is in a segment
    (an index scan; failed requests are not)."""
    assert window.last is not None
    cutoff = connection.execute(
        select(_record.c.timestamp)
        .where(_record.c.model_id == model_id)
        .where(_record.c.timestamp >= window.start)
        .where(_record.c.timestamp < window.end)
        .where(or_(_record.c.status_code.is_(None), _record.c.status_code < FIRST_ERROR_STATUS))
        .order_by(_record.c.timestamp.desc())
        .offset(window.last - 1)
        .limit(1)
    ).scalar()
    return window if cutoff is None else replace(window, start=max(cutoff, window.start))


def load_window(
    connection: Connection, model_id: int, schema: ModelSchema, window: Window
) -> pa.Table:
    """The window's records as one Arrow table (columns: see `segments.segment_schema`)."""
    if window.last is not None:
        window = _narrow_to_last(connection, model_id, window)
    blobs = connection.execute(
        select(_segment.c.arrow)
        .where(_segment.c.model_id == model_id)
        .where(_segment.c.max_timestamp >= window.start)
        .where(_segment.c.min_timestamp < window.end)
    ).scalars()
    table = decode_segments(schema, blobs)
    times = table.column(TIMESTAMP)
    table = table.filter(
        pc.and_(
            pc.greater_equal(times, pa.scalar(window.start, _TIME)),
            pc.less(times, pa.scalar(window.end, _TIME)),
        )
    )
    if window.last is not None and table.num_rows > window.last:
        newest = pc.sort_indices(table, [(TIMESTAMP, "descending")])[: window.last]
        table = table.take(newest).sort_by(TIMESTAMP)
    return table
