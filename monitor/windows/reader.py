"""Loading a monitoring window: the segments that overlap it, decoded and trimmed to it and to
the records of the version it judges; whole, or in batches of bounded size."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import ColumnElement, Connection, Select, and_, or_, select

from monitor.entities.inference import InferenceRecord, Variant
from monitor.entities.registered_model import ModelSchema
from monitor.entities.segment import InferenceSegment
from monitor.ingest.records import FIRST_ERROR_STATUS
from monitor.windows.segments import MODEL_VERSION, TIMESTAMP, VARIANT, decode_segments

_segment = InferenceSegment.__table__  # type: ignore[attr-defined]
_record = InferenceRecord.__table__  # type: ignore[attr-defined]
_TIME = pa.timestamp("us", tz="UTC")
BATCH_ROWS = 65_536  # a batch of a streamed window: large enough for vectorised work


@dataclass(frozen=True, slots=True)
class Window:
    """Records with `start <= timestamp < end`; with `last` set, only the newest `last` of them."""

    start: datetime
    end: datetime
    last: int | None = None


@dataclass(frozen=True, slots=True)
class VersionScope:
    """The records of a window that one version's monitoring judges.

    `stable_only` (a champion monitor): the stable traffic only, canary and shadow copies left to
    the rollout; records that name no version count as the champion's. Otherwise (a pinned
    version) every record of `version`, whichever variant served it. `version` None: a model
    the control plane knows no version of, all its stable traffic.
    """

    version: str | None
    stable_only: bool = True

    @classmethod
    def judged(cls, version: str | None, *, pinned: bool) -> "VersionScope":
        """The records a monitor judges of `version`: all of them when the monitor is pinned to
        it, else its stable traffic."""
        return cls(version, stable_only=not pinned)

    def arrow_filter(self, table: pa.Table) -> pa.ChunkedArray:
        """The keep-mask over `table`'s rows."""
        versions = table.column(MODEL_VERSION)
        if not self.stable_only:
            return pc.fill_null(pc.equal(versions, self.version), False)
        variants = table.column(VARIANT)
        mask = pc.or_kleene(pc.is_null(variants), pc.equal(variants, Variant.STABLE.value))
        if self.version is not None:
            mask = pc.and_kleene(
                mask, pc.or_kleene(pc.is_null(versions), pc.equal(versions, self.version))
            )
        return pc.fill_null(mask, False)

    def sql_filter(self) -> ColumnElement[bool]:
        versions, variants = _record.c.model_version, _record.c.variant
        if not self.stable_only:
            return versions == self.version  # type: ignore[no-any-return]
        stable = or_(variants.is_(None), variants == Variant.STABLE.value)
        if self.version is None:
            return stable
        return and_(stable, or_(versions.is_(None), versions == self.version))


def _narrow_to_last(
    connection: Connection, model_id: int, window: Window, scope: VersionScope | None
) -> Window:
    """Move the start up to the timestamp of the `last`-th newest record of the scope that is in
    a segment (an index scan; failed requests are not)."""
    assert window.last is not None
    newest = (
        select(_record.c.timestamp)
        .where(_record.c.model_id == model_id)
        .where(_record.c.timestamp >= window.start)
        .where(_record.c.timestamp < window.end)
        .where(or_(_record.c.status_code.is_(None), _record.c.status_code < FIRST_ERROR_STATUS))
    )
    if scope is not None:
        newest = newest.where(scope.sql_filter())
    cutoff = connection.execute(
        newest.order_by(_record.c.timestamp.desc()).offset(window.last - 1).limit(1)
    ).scalar()
    return window if cutoff is None else replace(window, start=max(cutoff, window.start))


def load_window(
    connection: Connection,
    model_id: int,
    schema: ModelSchema,
    window: Window,
    scope: VersionScope | None = None,
) -> pa.Table:
    """The window's records of `scope` as one Arrow table (columns: see
    `segments.segment_schema`); `scope` None: every record, whichever version and variant."""
    if window.last is not None:
        window = _narrow_to_last(connection, model_id, window, scope)
    blobs = connection.execute(_overlapping(model_id, window)).scalars()
    table = _trimmed(decode_segments(schema, blobs), window, scope)
    if window.last is not None and table.num_rows > window.last:
        newest = pc.sort_indices(table, [(TIMESTAMP, "descending")])[: window.last]
        table = table.take(newest).sort_by(TIMESTAMP)
    return table


def read_window(
    connection: Connection,
    model_id: int,
    schema: ModelSchema,
    window: Window,
    scope: VersionScope | None = None,
    columns: Sequence[str] | None = None,
    batch_rows: int | None = None,
) -> Iterator[pa.Table]:
    """The records `load_window` gives, as tables of `columns` (plus the timestamp) of about
    `batch_rows` (default `BATCH_ROWS`) rows each, segment by segment in time order: the memory
    held is a batch's, not the window's. A window of the newest `last` records comes as one
    table (it is bounded)."""
    if window.last is not None:
        table = load_window(connection, model_id, schema, window, scope)
        yield table if columns is None else table.select(_with_time(columns))
        return
    wanted = None
    if columns is not None:
        wanted = list(dict.fromkeys([*_with_time(columns), MODEL_VERSION, VARIANT]))
    # yield_per streams the blobs (a server-side cursor on PostgreSQL) two at a time
    query = _overlapping(model_id, window).order_by(_segment.c.min_timestamp, _segment.c.id)
    blobs = connection.execute(query.execution_options(yield_per=2))
    batch_rows = BATCH_ROWS if batch_rows is None else batch_rows
    pending: list[pa.Table] = []
    rows = 0
    for blob in blobs.scalars():
        table = _trimmed(decode_segments(schema, [blob], wanted), window, scope)
        pending.append(table if columns is None else table.select(_with_time(columns)))
        rows += table.num_rows
        if rows >= batch_rows:
            yield pa.concat_tables(pending)
            pending, rows = [], 0
    if rows:
        yield pa.concat_tables(pending)


def _with_time(columns: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*columns, TIMESTAMP]))


def _overlapping(model_id: int, window: Window) -> Select[tuple[bytes]]:
    return (
        select(_segment.c.arrow)
        .where(_segment.c.model_id == model_id)
        .where(_segment.c.max_timestamp >= window.start)
        .where(_segment.c.min_timestamp < window.end)
    )


def _trimmed(table: pa.Table, window: Window, scope: VersionScope | None) -> pa.Table:
    """The rows of `table` inside the window's time span and the scope."""
    times = table.column(TIMESTAMP)
    table = table.filter(
        pc.and_(
            pc.greater_equal(times, pa.scalar(window.start, _TIME)),
            pc.less(times, pa.scalar(window.end, _TIME)),
        )
    )
    if scope is not None and table.num_rows:
        table = table.filter(scope.arrow_filter(table))
    return table
