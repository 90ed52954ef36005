"""Pairing a request event with its response event through the store, so that any API replica
can receive either half, in any order, any number of times.

Both halves of one `ce-id` go to one row, written with an upsert that only fills a half that is
still empty. On PostgreSQL a second writer of the same row waits for the first to commit, and
on SQLite writers are serialised, so exactly one transaction sees the row complete and lands
its records; a repeated half changes nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from monitor.entities.inference import InferenceRecord
from monitor.entities.kserve_pair import PendingPair
from monitor.kserve.cloudevent import Half

_TABLE = PendingPair.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Pair:
    row_id: int
    request: dict[str, Any] | None
    response: dict[str, Any] | None

    @property
    def complete(self) -> bool:
        return self.request is not None and self.response is not None


def record_ids(event_id: str, count: int) -> list[str]:
    """The request_id of each instance: the ce-id alone for one instance (so labels join on the
    id the caller sent as `Ce-Id`), `<ce-id>#<index>` for a batch."""
    if count == 1:
        return [event_id]
    return [f"{event_id}#{index}" for index in range(count)]


def offer(
    connection: Connection,
    *,
    model_id: int,
    event_id: str,
    half: Half,
    content: dict[str, Any],
    now: datetime,
) -> Pair | None:
    """Store `half` of the pair unless it is already there; return the pair as it now stands,
    or None when this half had been received before."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(_TABLE).values(
        model_id=model_id, event_id=event_id, first_seen_at=now, **{half.value: content}
    )
    column = _TABLE.c[half.value]
    statement = insert.on_conflict_do_update(
        index_elements=["model_id", "event_id"],
        set_={half.value: insert.excluded[half.value]},
        where=column.is_(None),
    ).returning(_TABLE.c.id, _TABLE.c.request, _TABLE.c.response)
    row = connection.execute(statement).first()
    if row is None:
        return None
    return Pair(row_id=row.id, request=row.request, response=row.response)


def already_landed(connection: Connection, model_id: int, event_id: str) -> bool:
    """Whether records of this ce-id are stored (a half repeated after its pair landed)."""
    first_ids = [event_id, f"{event_id}#0"]
    found = connection.execute(
        select(col(InferenceRecord.id))
        .where(col(InferenceRecord.model_id) == model_id)
        .where(col(InferenceRecord.request_id).in_(first_ids))
        .limit(1)
    ).first()
    return found is not None


def remove(connection: Connection, row_id: int) -> None:
    connection.execute(delete(_TABLE).where(_TABLE.c.id == row_id))


@dataclass(frozen=True, slots=True)
class Waiting:
    requests: int
    responses: int
    oldest: datetime | None


def waiting(connection: Connection, model_id: int) -> Waiting:
    """How many halves of this model wait for the other one."""
    row = connection.execute(
        select(
            func.coalesce(func.sum(case((_TABLE.c.response.is_(None), 1), else_=0)), 0),
            func.coalesce(func.sum(case((_TABLE.c.request.is_(None), 1), else_=0)), 0),
            func.min(_TABLE.c.first_seen_at),
        ).where(_TABLE.c.model_id == model_id)
    ).one()
    return Waiting(int(row[0]), int(row[1]), row[2])


@dataclass(frozen=True, slots=True)
class Unpaired:
    row_id: int
    model_id: int
    waited_for: Half  # the half that never came


def oldest_unpaired(connection: Connection, cutoff: datetime, limit: int) -> Sequence[Unpaired]:
    rows = connection.execute(
        select(_TABLE.c.id, _TABLE.c.model_id, _TABLE.c.request.is_(None))
        .where(_TABLE.c.first_seen_at < cutoff)
        .order_by(_TABLE.c.first_seen_at)
        .limit(limit)
    ).all()
    return [Unpaired(row[0], row[1], Half.REQUEST if row[2] else Half.RESPONSE) for row in rows]
