"""Streaming reader for reference data sets: CSV, Parquet, NDJSON or JSON records in, typed and
validated Arrow batches out. Only one batch is in memory at a time."""

from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from monitor.entities.registered_model import FeatureKind, ModelSchema, Task
from monitor.ingest.values import INTEGRAL_TEXT
from monitor.services.errors import TooLarge, Unprocessable

PREDICTION = "prediction"
LABEL = "label"
# Arrow's CSV and JSON readers keep a few dozen blocks in flight; small blocks keep that small.
READ_BLOCK_BYTES = 1024 * 1024
MAX_JSON_REFERENCE_BYTES = 64 * 1024 * 1024


class ReferenceFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"
    NDJSON = "ndjson"
    JSON = "json"

    @classmethod
    def detect(cls, content_type: str | None, filename: str | None) -> "ReferenceFormat":
        content_type = (content_type or "").split(";")[0].strip().lower()
        by_type = {
            "text/csv": cls.CSV,
            "application/csv": cls.CSV,
            "application/vnd.apache.parquet": cls.PARQUET,
            "application/x-parquet": cls.PARQUET,
            "application/parquet": cls.PARQUET,
            "application/x-ndjson": cls.NDJSON,
            "application/jsonl": cls.NDJSON,
            "application/json": cls.JSON,
        }
        if content_type in by_type:
            return by_type[content_type]
        suffix = Path(filename or "").suffix.lower()
        by_suffix = {
            ".csv": cls.CSV,
            ".parquet": cls.PARQUET,
            ".pq": cls.PARQUET,
            ".ndjson": cls.NDJSON,
            ".jsonl": cls.NDJSON,
            ".json": cls.JSON,
        }
        if suffix in by_suffix:
            return by_suffix[suffix]
        raise Unprocessable(
            "content-type",
            f"cannot tell the format of the upload (content type {content_type!r}, file "
            f"{filename!r}); send text/csv, application/vnd.apache.parquet, "
            "application/x-ndjson or application/json, or name the file .csv/.parquet/.ndjson",
        )


FEATURE_TYPES = {
    FeatureKind.NUMERICAL: pa.float64(),
    FeatureKind.CATEGORICAL: pa.string(),
    FeatureKind.BOOLEAN: pa.bool_(),
}


def target_schema(schema: ModelSchema, prediction_type: pa.DataType, has_label: bool) -> pa.Schema:
    fields = [pa.field(f.name, FEATURE_TYPES[f.kind], nullable=f.nullable) for f in schema.features]
    fields.append(pa.field(PREDICTION, prediction_type, nullable=False))
    if has_label:
        fields.append(pa.field(LABEL, _label_type(schema), nullable=True))
    return pa.schema(fields)


def _label_type(schema: ModelSchema) -> pa.DataType:
    return pa.float64() if schema.task is Task.REGRESSION else pa.string()


def read_batches(
    path: Path,
    fmt: ReferenceFormat,
    schema: ModelSchema,
    rows_per_batch: int,
    parquet_columns: list[str] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Raw batches of the upload, with the feature columns' types fixed where the format allows
    (of a Parquet file, only `parquet_columns`: see monitor.ingest.parquet_plan)."""
    try:
        if fmt is ReferenceFormat.PARQUET:
            yield from pq.ParquetFile(path).iter_batches(
                batch_size=rows_per_batch, columns=parquet_columns
            )
        elif fmt is ReferenceFormat.CSV:
            yield from _csv_batches(path, schema)
        elif fmt is ReferenceFormat.NDJSON:
            yield from pa_json.open_json(
                path, read_options=pa_json.ReadOptions(block_size=READ_BLOCK_BYTES)
            )
        else:
            yield from _json_records(path).to_batches(max_chunksize=rows_per_batch)
    except (pa.ArrowInvalid, orjson.JSONDecodeError, OSError) as error:
        raise Unprocessable("file", f"the {fmt} upload cannot be read: {error}") from error


def _csv_batches(path: Path, schema: ModelSchema) -> Iterator[pa.RecordBatch]:
    # Text first, typed later: a failed cast can then name the row (the CSV reader cannot), and
    # type inference cannot differ between blocks. A binary prediction may be a score or a label.
    as_text = [*schema.feature_names, LABEL]
    if schema.task is not Task.BINARY_CLASSIFICATION:
        as_text.append(PREDICTION)
    reader = pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(block_size=READ_BLOCK_BYTES),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(as_text, pa.string()), strings_can_be_null=True
        ),
    )
    yield from reader


def _json_records(path: Path) -> pa.Table:
    size = path.stat().st_size
    if size > MAX_JSON_REFERENCE_BYTES:  # a JSON document is parsed whole, unlike the others
        raise TooLarge(
            f"a JSON reference is parsed whole, so it may hold at most "
            f"{MAX_JSON_REFERENCE_BYTES} bytes (this one holds {size}); send larger references "
            "as NDJSON (application/x-ndjson, one record per line), CSV or Parquet, which are "
            "streamed"
        )
    document: Any = orjson.loads(path.read_bytes())
    records = document.get("records") if isinstance(document, dict) else document
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise Unprocessable(
            "records", 'a JSON reference is a list of objects or {"records": [objects]}'
        )
    return pa.Table.from_pylist(records)


def check_required_columns(schema: ModelSchema, names: set[str]) -> None:
    """422 naming the columns a reference with these `names` lacks."""
    missing = [f.name for f in schema.features if f.name not in names and not f.nullable]
    if PREDICTION not in names:
        missing.append(PREDICTION)
    if missing:
        raise Unprocessable(
            "columns",
            f"the reference lacks the columns {missing}; it needs every non-nullable "
            f"feature and '{PREDICTION}' (and '{LABEL}' where known)",
        )


class BatchNormaliser:
    """Checks each raw batch against the model's schema and casts it to one fixed Arrow schema.

    The first batch decides the prediction column's type (binary models may send either a
    positive-class score or a class label); every later batch must agree.
    """

    def __init__(self, schema: ModelSchema) -> None:
        self.schema = schema
        self.target: pa.Schema | None = None
        self.ignored_columns: list[str] = []
        self.rows = 0

    def normalise(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.target is None:
            self.target = self._decide_target(batch)
        columns = []
        for field in self.target:
            columns.append(self._column(batch, field))
        self.rows += batch.num_rows
        return pa.RecordBatch.from_arrays(columns, schema=self.target)

    def _decide_target(self, batch: pa.RecordBatch) -> pa.Schema:
        names = set(batch.schema.names)
        check_required_columns(self.schema, names)
        known = {*self.schema.feature_names, PREDICTION, LABEL}
        self.ignored_columns = [name for name in batch.schema.names if name not in known]
        return target_schema(self.schema, self._prediction_type(batch), LABEL in names)

    def _prediction_type(self, batch: pa.RecordBatch) -> pa.DataType:
        if self.schema.task is Task.REGRESSION:
            return pa.float64()
        if self.schema.task is Task.BINARY_CLASSIFICATION:
            raw = batch.column(PREDICTION).type
            if pa.types.is_floating(raw):
                return pa.float64()
        return pa.string()

    def _column(self, batch: pa.RecordBatch, field: pa.Field) -> pa.Array:
        if field.name not in batch.schema.names:
            return pa.nulls(batch.num_rows, field.type)
        raw = batch.column(field.name)
        if field.name in (PREDICTION, LABEL) and pa.types.is_string(field.type):
            raw = self._integer_class_text(raw)
        column = self._cast(raw, field)
        null_count = column.null_count
        if null_count and not field.nullable:
            row = self.rows + _first_index(pc.is_null(column))
            raise Unprocessable(
                field.name,
                f"column {field.name!r} has {null_count} missing values (first at row {row}) but "
                "is not nullable; fill them or declare the feature nullable",
            )
        if pa.types.is_floating(field.type):
            self._check_finite(column, field.name)
            if field.name == PREDICTION and self.schema.task is Task.BINARY_CLASSIFICATION:
                self._check_unit_interval(column)
        if field.name in (PREDICTION, LABEL) and pa.types.is_string(field.type):
            self._check_class_labels(column, field.name)
        return column

    def _integer_class_text(self, raw: pa.Array) -> pa.Array:
        """With integer class labels, a float column (what pandas writes for labels with gaps)
        and texts such as "1.0" read as the integer's text, so they match the class "1"."""
        if not self.schema.numeric_class_labels:
            return raw
        if pa.types.is_floating(raw.type) or pa.types.is_integer(raw.type):
            raw = raw.cast(pa.string())
        if pa.types.is_string(raw.type):
            return pc.replace_substring_regex(raw, pattern=INTEGRAL_TEXT.pattern, replacement=r"\1")
        return raw

    def _cast(self, raw: pa.Array, field: pa.Field) -> pa.Array:
        if raw.type == field.type:
            return raw
        if pa.types.is_string(field.type) and pa.types.is_floating(raw.type):
            raise Unprocessable(
                field.name,
                f"column {field.name!r} holds decimals but takes strings (a category or class "
                "label); send the values as text or integers",
            )
        if pa.types.is_boolean(raw.type) and not pa.types.is_boolean(field.type):
            raise Unprocessable(field.name, f"column {field.name!r} holds booleans: {field.type}")
        try:
            return raw.cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            index = _first_failing_cast(raw, field.type)
            raise Unprocessable(
                field.name,
                f"column {field.name!r} holds {raw[index].as_py()!r} at row {self.rows + index}, "
                f"which cannot be read as {_TYPE_NAMES.get(str(field.type), field.type)}",
            ) from error

    def _check_finite(self, column: pa.Array, name: str) -> None:
        bad = pc.invert(pc.is_finite(column.fill_null(0.0)))
        if pc.any(bad).as_py():
            raise Unprocessable(
                name,
                f"column {name!r} holds NaN or infinity at row {self.rows + _first_index(bad)}; "
                "send an empty value for missing data",
            )

    def _check_unit_interval(self, column: pa.Array) -> None:
        outside = pc.or_(pc.less(column, 0.0), pc.greater(column, 1.0))
        if pc.any(outside).as_py():
            raise Unprocessable(
                PREDICTION,
                f"a numeric binary prediction is the positive-class probability and must lie in "
                f"[0, 1]; row {self.rows + _first_index(outside)} does not",
            )

    def _check_class_labels(self, column: pa.Array, name: str) -> None:
        labels = pa.array(self.schema.class_labels or [], pa.string())
        unknown = pc.and_(pc.is_valid(column), pc.invert(pc.is_in(column, value_set=labels)))
        if pc.any(unknown).as_py():
            index = _first_index(unknown)
            raise Unprocessable(
                name,
                f"column {name!r} holds {column[index].as_py()!r} at row {self.rows + index}, "
                f"which is not a class label of this model {self.schema.class_labels}",
            )


_TYPE_NAMES = {"double": "a number", "bool": "true or false", "string": "text"}


def _first_failing_cast(raw: pa.Array, target: pa.DataType) -> int:
    """The first row that cannot be cast, found by bisection with vectorised casts."""
    low, high = 0, len(raw)
    while high - low > 1:
        middle = (low + high) // 2
        try:
            raw.slice(low, middle - low).cast(target)
            low = middle
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            high = middle
    return low


def _first_index(mask: pa.Array) -> int:
    return int(pc.index(mask, True).as_py())
