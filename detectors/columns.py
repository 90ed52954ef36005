"""Reading one column into clean values plus the counts that data quality needs.

Shared by profile fitting and window summarising, so a reference and a window are cleaned by the
same rules: missing values (None, NaN, pd.NA) are counted and dropped; infinities are counted and
dropped from numerical values; values of the wrong type are counted as type errors and dropped.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from detectors.schema import FeatureKind

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

TYPE_ERROR_EXAMPLES = 3
_BOOLEAN_TEXT = {"true": "true", "false": "false"}


@dataclass(frozen=True, slots=True, eq=False)
class NumericalColumn:
    """Finite values of a numerical column (original order) and what was dropped from it."""

    values: FloatArray
    n_rows: int
    n_missing: int
    n_infinite: int
    n_type_errors: int
    type_error_examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CategoricalColumn:
    """Distinct labels of a categorical column with their counts, and what was dropped."""

    labels: tuple[str, ...]
    counts: tuple[int, ...]
    n_rows: int
    n_missing: int
    n_type_errors: int
    type_error_examples: tuple[str, ...]
    value_types: tuple[str, ...]


def read_numerical(series: pd.Series) -> NumericalColumn:
    """Convert a column to float64, separating missing, infinite and non-numeric values."""
    type_errors: npt.NDArray[np.bool_] | None = None
    if pd.api.types.is_float_dtype(series.dtype) and series.dtype == np.float64:
        raw = series.to_numpy()
    elif pd.api.types.is_numeric_dtype(series.dtype):
        raw = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        coerced = pd.to_numeric(series, errors="coerce")
        type_errors = (series.notna() & coerced.isna()).to_numpy()
        raw = coerced.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(raw)
    n_finite = int(np.count_nonzero(finite))
    values = raw if n_finite == raw.size else raw[finite]
    n_nan = int(np.count_nonzero(np.isnan(raw))) if n_finite < raw.size else 0
    n_type_errors = int(np.count_nonzero(type_errors)) if type_errors is not None else 0
    examples: tuple[str, ...] = ()
    if n_type_errors and type_errors is not None:
        examples = tuple(repr(v) for v in series[type_errors].unique()[:TYPE_ERROR_EXAMPLES])
    return NumericalColumn(
        values=values,
        n_rows=int(raw.size),
        n_missing=n_nan - n_type_errors,
        n_infinite=int(raw.size) - n_finite - n_nan,
        n_type_errors=n_type_errors,
        type_error_examples=examples,
    )


def read_categorical(series: pd.Series, kind: FeatureKind) -> CategoricalColumn:
    """Count a column's values by label; see :func:`category_label` for the labelling rules."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype(np.int64)
        uniques = series.cat.categories
    else:
        try:
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
        except TypeError:  # unhashable values (lists, dicts) in an object column
            codes, uniques = pd.factorize(series.map(_hashable), use_na_sentinel=True)
    counts = np.bincount(codes + 1, minlength=len(uniques) + 1)
    by_label: Counter[str] = Counter()
    errors: list[str] = []
    n_type_errors = 0
    value_types = set()
    for value, count in zip(uniques, counts[1:].tolist(), strict=True):
        if count == 0:
            continue
        label = category_label(value, kind)
        if label is None:
            n_type_errors += count
            errors.append(repr(value))
        else:
            by_label[label] += count
            value_types.add(_type_family(value))
    labels = tuple(sorted(by_label))
    return CategoricalColumn(
        labels=labels,
        counts=tuple(by_label[label] for label in labels),
        n_rows=len(series),
        n_missing=int(counts[0]),
        n_type_errors=n_type_errors,
        type_error_examples=tuple(errors[:TYPE_ERROR_EXAMPLES]),
        value_types=tuple(sorted(value_types)),
    )


def category_label(value: object, kind: FeatureKind) -> str | None:
    """The text label a value is compared by, or None when it is a type error.

    Booleans (also 0/1 and the strings "true"/"false" for boolean features) become "true" and
    "false"; integers and integral floats become their integer text, so 1 and 1.0 are one category.

    >>> [category_label(v, FeatureKind.CATEGORICAL) for v in ["a", 3, 3.0, 2.5, True, [1]]]
    ['a', '3', '3', '2.5', 'true', None]
    >>> [category_label(v, FeatureKind.BOOLEAN) for v in [False, 1, "TRUE", "yes"]]
    ['false', 'true', 'true', None]
    """
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if kind is FeatureKind.BOOLEAN:
        if isinstance(value, str):
            return _BOOLEAN_TEXT.get(value.strip().lower())
        if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
            return "true" if value else "false"
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and math.isfinite(value):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return None


@dataclass(frozen=True, slots=True)
class _Unhashable:
    """Stands in for an unhashable value, which is always a type error."""

    text: str

    def __repr__(self) -> str:
        return self.text


def _hashable(value: object) -> object:
    return value if isinstance(value, Hashable) else _Unhashable(repr(value))


def _type_family(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, str):
        return "str"
    return "number"
