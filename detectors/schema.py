"""Feature schema: the name, kind and nullability of each monitored column."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pandas as pd


class FeatureKind(StrEnum):
    """How a column's values are compared: as numbers, or as category labels."""

    NUMERICAL = "numerical"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One monitored column.

    ``kind`` accepts the enum or its string value; booleans are compared as the categories
    ``"true"`` and ``"false"``. ``nullable=False`` makes any missing value a data-quality failure.

    >>> FeatureSpec("age", "numerical")
    FeatureSpec(name='age', kind=<FeatureKind.NUMERICAL: 'numerical'>, nullable=True)
    """

    name: str
    kind: FeatureKind
    nullable: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        try:
            kind = FeatureKind(self.kind)
        except ValueError:
            valid = ", ".join(k.value for k in FeatureKind)
            raise ValueError(
                f"kind of feature {self.name!r} must be one of {valid}, got {self.kind!r}"
            ) from None
        object.__setattr__(self, "kind", kind)


def infer_schema(frame: pd.DataFrame) -> tuple[FeatureSpec, ...]:
    """Guess a schema from column dtypes: bool -> boolean, numbers -> numerical, else categorical.

    >>> [s.kind.value for s in infer_schema(pd.DataFrame({"a": [1.0], "b": ["x"], "c": [True]}))]
    ['numerical', 'categorical', 'boolean']
    """
    specs = []
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            kind = FeatureKind.BOOLEAN
        elif pd.api.types.is_numeric_dtype(dtype):
            kind = FeatureKind.NUMERICAL
        else:
            kind = FeatureKind.CATEGORICAL
        specs.append(FeatureSpec(str(name), kind))
    return tuple(specs)
