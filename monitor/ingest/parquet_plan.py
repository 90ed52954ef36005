"""What of a Parquet reference upload may be read, decided from its footer before any data is:
the columns the model needs (present, and scalar), and row groups small enough that reading
one at a time stays within a memory budget. A file that breaks either is refused whole."""

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from monitor.entities.registered_model import ModelSchema
from monitor.ingest.reference import LABEL, PREDICTION, check_required_columns
from monitor.services.errors import TooLarge, Unprocessable

# The footer (the file's metadata) is parsed whole; a bigger one is a file built to exhaust
# memory, or one with an absurd number of columns or row groups.
MAX_FOOTER_BYTES = 16 * 1024 * 1024
MAGIC = b"PAR1"
SMALLER_ROW_GROUPS = (
    "write the file with smaller row groups, e.g. "
    "pyarrow.parquet.write_table(table, path, row_group_size=100_000)"
)


@dataclass(frozen=True, slots=True)
class ParquetPlan:
    columns: list[str]  # read, in the file's order
    ignored: list[str]  # in the file, not read


def plan_parquet_read(path: Path, schema: ModelSchema, max_row_group_bytes: int) -> ParquetPlan:
    """The columns to read, after checking the footer; 422 for a missing or nested column or an
    unreadable file, 413 for a row group or footer past the limits."""
    _check_footer_size(path)
    try:
        metadata = pq.read_metadata(path)
        file_schema = metadata.schema.to_arrow_schema()
    except (pa.ArrowInvalid, OSError) as error:
        raise Unprocessable("file", f"the parquet upload cannot be read: {error}") from error
    names = file_schema.names
    check_required_columns(schema, set(names))
    known = {*schema.feature_names, PREDICTION, LABEL}
    columns = [name for name in names if name in known]
    for name in columns:
        kind = file_schema.field(name).type
        if pa.types.is_nested(kind):
            raise Unprocessable(
                f"columns.{name}",
                f"column {name!r} is a {kind} column; reference columns hold one number, "
                "string or boolean per row",
            )
    read = set(columns)
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        size = sum(
            group.column(j).total_uncompressed_size
            for j in range(group.num_columns)
            if group.column(j).path_in_schema.split(".")[0] in read
        )
        if size > max_row_group_bytes:
            raise TooLarge(
                f"row group {index} of the parquet upload holds {size} bytes of the model's "
                f"columns uncompressed; the limit is {max_row_group_bytes} "
                f"(MONITOR_MAX_REFERENCE_ROW_GROUP_BYTES): {SMALLER_ROW_GROUPS}"
            )
    return ParquetPlan(columns, [name for name in names if name not in read])


def _check_footer_size(path: Path) -> None:
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        if size < 12:
            raise Unprocessable("file", "the parquet upload is too short to be a Parquet file")
        handle.seek(size - 8)
        tail = handle.read(8)
    if tail[4:] != MAGIC:
        raise Unprocessable("file", "the parquet upload does not end in PAR1; it is not Parquet")
    footer = int.from_bytes(tail[:4], "little")
    if footer > MAX_FOOTER_BYTES:
        raise TooLarge(
            f"the parquet upload's metadata (footer) is {footer} bytes; the limit is "
            f"{MAX_FOOTER_BYTES}: write fewer row groups or columns"
        )
