"""The reference profile: everything a drift run needs from the reference, fitted once and stored.

Numerical features keep a fine grid of reference quantiles with the exact reference count in every
grid *cell*. Cells are numbered along the value axis: cell 0 holds values below the reference
minimum, cell ``2k + 1`` values equal to ``grid[k]``, cell ``2k`` values strictly between
``grid[k - 1]`` and ``grid[k]``, and the last cell values above the reference maximum. KS, PSI,
Jensen-Shannon and Wasserstein all read a window as counts over these cells, so a run bins each
column once and never touches the raw reference. Small references also keep their sorted values
for the exact KS and Wasserstein tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from detectors.columns import (
    CategoricalColumn,
    FloatArray,
    IntArray,
    NumericalColumn,
    read_categorical,
    read_numerical,
)
from detectors.schema import FeatureKind, FeatureSpec
from detectors.validation import check_int

ArrayT = TypeVar("ArrayT", bound=np.ndarray[Any, Any])

# A numerical reference with at most this many distinct values is discrete (counts, ratings).
DISCRETE_MAX_VALUES = 20

FORMAT = "detectors.ReferenceProfile"
VERSION = 1


def count_cells(grid: FloatArray, ordered: FloatArray) -> IntArray:
    """Count sorted finite values per grid cell (see the module docstring for the numbering).

    Sorting the values first (O(n log n), parallel-friendly as numpy releases the GIL) leaves
    only two binary searches per grid value.
    """
    if grid.size == 0:
        return np.asarray([ordered.size], dtype=np.int64)
    at_or_below = np.searchsorted(ordered, grid, side="right")
    below = np.searchsorted(ordered, grid, side="left")
    cells = np.empty(2 * grid.size + 1, dtype=np.int64)
    cells[1::2] = at_or_below - below
    cells[0] = below[0]
    cells[2:-1:2] = below[1:] - at_or_below[:-1]
    cells[-1] = ordered.size - at_or_below[-1]
    return cells


@dataclass(frozen=True, slots=True, eq=False)
class NumericalProfile:
    """Reference distribution of one numerical feature.

    ``bin_edges`` are the distinct reference quantiles at ``i / bins`` (minimum to maximum,
    observed values: the inverted-CDF definition);
    ``sample`` holds every finite reference value, sorted, when there are at most the profile's
    ``sample_size`` of them, and is None otherwise. ``n`` counts the finite reference values.
    """

    spec: FeatureSpec
    n_rows: int
    n_missing: int
    n_infinite: int
    n_type_errors: int
    n: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    bins: int
    bin_edges: FloatArray
    grid: FloatArray
    cell_counts: IntArray
    sample: FloatArray | None

    @property
    def name(self) -> str:
        return self.spec.name

    @classmethod
    def fit(
        cls,
        spec: FeatureSpec,
        column: NumericalColumn,
        *,
        bins: int,
        grid_size: int,
        sample_size: int,
    ) -> NumericalProfile:
        ordered = np.sort(column.values)
        n = int(ordered.size)
        empty = np.empty(0, dtype=np.float64)
        edges, grid = empty, empty
        if n:
            edges = np.unique(_quantiles(ordered, bins))
            grid = np.unique(np.concatenate([_quantiles(ordered, grid_size), edges]))
            distinct = np.unique(ordered)
            if distinct.size <= DISCRETE_MAX_VALUES:  # every value of a discrete reference
                grid = distinct
        return cls(
            spec=spec,
            **_dropped_counts(column),
            n_infinite=column.n_infinite,
            n=n,
            mean=float(ordered.mean()) if n else None,
            std=float(ordered.std()) if n else None,
            min=float(ordered[0]) if n else None,
            max=float(ordered[-1]) if n else None,
            bins=bins,
            bin_edges=_frozen(edges),
            grid=_frozen(grid),
            cell_counts=_frozen(count_cells(grid, ordered)),
            sample=_frozen(ordered) if n <= sample_size else None,
        )

    @property
    def discrete(self) -> bool:
        """Whether the reference takes 2 to :data:`DISCRETE_MAX_VALUES` distinct values, every one
        of them on the grid (no reference value strictly between two grid values)."""
        between = self.cell_counts[2:-1:2]
        return 2 <= self.grid.size <= DISCRETE_MAX_VALUES and not between.any()

    def bin_starts(self) -> IntArray:
        """First cell of each PSI bin: below-min, interior bins, above-max.

        Interior bins are ``[min, e1]``, ``(e1, e2]``, ..., ``(e_{m-1}, max]``; when at least
        ``1 / bins`` of the reference sits exactly at the minimum, ``{min}`` is a bin of its own,
        so a 0/1 feature gets the bins {0} and {1}.
        """
        edge_index = np.searchsorted(self.grid, self.bin_edges)
        starts = [0, 1]
        if edge_index.size > 1 and self.cell_counts[1] * self.bins >= self.n:
            starts.append(2)
        starts.extend((2 * edge_index[1:-1] + 2).tolist())
        starts.append(2 * self.grid.size)
        return np.asarray(starts, dtype=np.int64)

    def bin_counts(self, cells: IntArray) -> IntArray:
        """Aggregate cell counts (reference or window) into the PSI bins of :meth:`bin_starts`."""
        return np.add.reduceat(cells, self.bin_starts()).astype(np.int64, copy=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NumericalProfile):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def to_dict(self) -> dict[str, Any]:
        return {
            **_spec_dict(self.spec),
            **{k: getattr(self, k) for k in _NUMERICAL_SCALARS},
            "bin_edges": self.bin_edges.tolist(),
            "grid": self.grid.tolist(),
            "cell_counts": self.cell_counts.tolist(),
            "sample": None if self.sample is None else self.sample.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericalProfile:
        sample = data["sample"]
        return cls(
            spec=_spec_from_dict(data),
            **{k: data[k] for k in _NUMERICAL_SCALARS},
            bin_edges=_frozen(np.asarray(data["bin_edges"], dtype=np.float64)),
            grid=_frozen(np.asarray(data["grid"], dtype=np.float64)),
            cell_counts=_frozen(np.asarray(data["cell_counts"], dtype=np.int64)),
            sample=None if sample is None else _frozen(np.asarray(sample, dtype=np.float64)),
        )


_NUMERICAL_SCALARS = (
    "n_rows",
    "n_missing",
    "n_infinite",
    "n_type_errors",
    "n",
    "mean",
    "std",
    "min",
    "max",
    "bins",
)


@dataclass(frozen=True, slots=True)
class CategoricalProfile:
    """Reference category counts of one categorical or boolean feature (labels sorted)."""

    spec: FeatureSpec
    n_rows: int
    n_missing: int
    n_type_errors: int
    categories: tuple[str, ...]
    counts: tuple[int, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def n(self) -> int:
        return sum(self.counts)

    @property
    def expected_unseen_share(self) -> float:
        """Good-Turing estimate of the mass of categories the reference never saw: its share of
        categories seen exactly once. About 0 for a few categories, several percent for ids, so
        a window of a long tail brings that share of new categories with no drift at all."""
        return sum(count == 1 for count in self.counts) / self.n if self.n else 0.0

    @classmethod
    def fit(cls, spec: FeatureSpec, column: CategoricalColumn) -> CategoricalProfile:
        return cls(
            spec=spec,
            **_dropped_counts(column),
            categories=column.labels,
            counts=column.counts,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **_spec_dict(self.spec),
            "n_rows": self.n_rows,
            "n_missing": self.n_missing,
            "n_type_errors": self.n_type_errors,
            "categories": list(self.categories),
            "counts": list(self.counts),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalProfile:
        return cls(
            spec=_spec_from_dict(data),
            n_rows=data["n_rows"],
            n_missing=data["n_missing"],
            n_type_errors=data["n_type_errors"],
            categories=tuple(data["categories"]),
            counts=tuple(data["counts"]),
        )


FeatureProfile = NumericalProfile | CategoricalProfile


@dataclass(frozen=True, slots=True)
class ReferenceProfile:
    """Per-feature reference profiles plus the settings they were fitted with.

    Fit it once when a reference is uploaded, store :meth:`to_json`, and load it with
    :meth:`from_json` for every drift run.

    >>> frame = pd.DataFrame({"age": [31.0, 45.0, 27.0, 52.0], "plan": ["a", "b", "a", "a"]})
    >>> schema = [FeatureSpec("age", "numerical"), FeatureSpec("plan", "categorical")]
    >>> profile = ReferenceProfile.fit(frame, schema, bins=2)
    >>> profile.feature("plan").categories, profile.feature("plan").counts
    (('a', 'b'), (3, 1))
    >>> ReferenceProfile.from_json(profile.to_json()) == profile
    True
    """

    features: tuple[FeatureProfile, ...]
    bins: int
    grid_size: int
    sample_size: int

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        schema: Iterable[FeatureSpec],
        *,
        bins: int = 10,
        grid_size: int = 2_000,
        sample_size: int = 10_000,
    ) -> ReferenceProfile:
        """Profile ``frame``'s schema columns.

        ``bins`` is the number of reference-quantile PSI bins; ``grid_size`` the number of
        reference quantiles kept for the grid tests; ``sample_size`` the largest number of finite
        values a numerical feature may have for its sorted values to be kept for exact tests.
        """
        check_int("bins", bins, 1, 1_000)
        check_int("grid_size", grid_size, bins, 100_000)
        check_int("sample_size", sample_size, 0, 10_000_000)
        specs = check_schema(frame, schema)
        features: list[FeatureProfile] = []
        for spec in specs:
            series = frame[spec.name]
            if spec.kind is FeatureKind.NUMERICAL:
                features.append(
                    NumericalProfile.fit(
                        spec,
                        read_numerical(series),
                        bins=bins,
                        grid_size=grid_size,
                        sample_size=sample_size,
                    )
                )
            else:
                features.append(CategoricalProfile.fit(spec, read_categorical(series, spec.kind)))
        return cls(tuple(features), bins, grid_size, sample_size)

    @property
    def schema(self) -> tuple[FeatureSpec, ...]:
        return tuple(feature.spec for feature in self.features)

    def feature(self, name: str) -> FeatureProfile:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(f"no feature named {name!r} in the profile")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "bins": self.bins,
            "grid_size": self.grid_size,
            "sample_size": self.sample_size,
            "features": [feature.to_dict() for feature in self.features],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceProfile:
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            raise ValueError(
                f"not a {FORMAT} version {VERSION} document: format={data.get('format')!r}, "
                f"version={data.get('version')!r}"
            )
        features: list[FeatureProfile] = [
            NumericalProfile.from_dict(item)
            if item["kind"] == FeatureKind.NUMERICAL.value
            else CategoricalProfile.from_dict(item)
            for item in data["features"]
        ]
        return cls(tuple(features), data["bins"], data["grid_size"], data["sample_size"])

    def to_json(self) -> str:
        """Standard JSON (no NaN); floats round-trip exactly."""
        return json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> ReferenceProfile:
        return cls.from_dict(json.loads(text))


def check_schema(frame: pd.DataFrame, schema: Iterable[FeatureSpec]) -> tuple[FeatureSpec, ...]:
    """The schema as a tuple, refusing duplicate names and columns the frame lacks."""
    specs = tuple(schema)
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"schema names features more than once: {', '.join(duplicates)}")
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ValueError(f"frame has no column for feature(s): {', '.join(missing)}")
    return specs


def _dropped_counts(column: NumericalColumn | CategoricalColumn) -> dict[str, int]:
    """The row counts a profile keeps for relative data-quality thresholds."""
    return {
        "n_rows": column.n_rows,
        "n_missing": column.n_missing,
        "n_type_errors": column.n_type_errors,
    }


def _quantiles(ordered: FloatArray, count: int) -> FloatArray:
    """The smallest reference value with at least i / count of the reference at or below it,
    for i = 0..count (the inverted-CDF quantile, in exact integer arithmetic). Always observed
    values, so a discrete feature gets no edges between its values."""
    n = ordered.size
    index = (n * np.arange(count + 1, dtype=np.int64) + count - 1) // count - 1
    return ordered[np.maximum(index, 0)]


def _frozen(array: ArrayT) -> ArrayT:
    array.flags.writeable = False
    return array


def _spec_dict(spec: FeatureSpec) -> dict[str, Any]:
    return {"name": spec.name, "kind": spec.kind.value, "nullable": spec.nullable}


def _spec_from_dict(data: Mapping[str, Any]) -> FeatureSpec:
    return FeatureSpec(data["name"], FeatureKind(data["kind"]), data["nullable"])
