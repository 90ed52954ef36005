"""Reading stored inference records back by time range, a page at a time (keyset cursor)."""

import base64
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from monitor.entities.inference import InferencePage, InferencePublic, InferenceRecord
from monitor.entities.registered_model import RegisteredModel
from monitor.services.errors import Unprocessable


def _encode_cursor(record: InferenceRecord) -> str:
    raw = f"{record.timestamp.isoformat()}|{record.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        timestamp, record_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(timestamp), int(record_id)
    except ValueError as error:
        raise Unprocessable(
            "cursor", "cursor is not one this API issued; pass next_cursor from the last page"
        ) from error


def list_inferences(
    *,
    session: Session,
    model: RegisteredModel,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    cursor: str | None,
) -> InferencePage:
    """Records with `start <= timestamp < end`, oldest first."""
    query = select(InferenceRecord).where(InferenceRecord.model_id == model.id)
    if start is not None:
        query = query.where(InferenceRecord.timestamp >= start)
    if end is not None:
        query = query.where(InferenceRecord.timestamp < end)
    if cursor is not None:
        after_time, after_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                col(InferenceRecord.timestamp) > after_time,
                and_(
                    col(InferenceRecord.timestamp) == after_time,
                    col(InferenceRecord.id) > after_id,
                ),
            )
        )
    query = query.order_by(col(InferenceRecord.timestamp), col(InferenceRecord.id)).limit(limit + 1)
    records = list(session.exec(query).all())
    has_more = len(records) > limit
    records = records[:limit]
    return InferencePage(
        data=[InferencePublic.model_validate(record, from_attributes=True) for record in records],
        count=len(records),
        next_cursor=_encode_cursor(records[-1]) if has_more else None,
    )
