"""Writing segments: the rows an ingest batch actually inserted (failed requests left out), in the
same transaction."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert

from monitor.entities.registered_model import ModelSchema
from monitor.entities.segment import InferenceSegment
from monitor.ingest.records import InferenceRow
from monitor.windows.segments import encode_segment


def write_segment(
    connection: Connection,
    model_id: int,
    schema: ModelSchema,
    rows: Sequence[InferenceRow],
    created_at: datetime,
) -> None:
    # Failed requests carry no model output: they stay in the inference log (error rates) but
    # out of the windows that drift is measured on.
    rows = [row for row in rows if not row.failed]
    if not rows:
        return
    times = [row.timestamp for row in rows]
    connection.execute(
        insert(InferenceSegment).values(
            model_id=model_id,
            min_timestamp=min(times),
            max_timestamp=max(times),
            row_count=len(rows),
            arrow=encode_segment(schema, rows),
            created_at=created_at,
        )
    )
