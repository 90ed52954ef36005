"""Summarising a window column against its reference profile: the counts every test reads.

Each column is read and binned once per run; the tests and the data-quality checks then work on
these small summaries, never on the raw window again (except the exact tests on small windows,
which keep the sorted values).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from detectors.columns import FloatArray, IntArray, read_categorical, read_numerical
from detectors.profile import CategoricalProfile, FeatureProfile, NumericalProfile, count_cells


@dataclass(frozen=True, slots=True, eq=False)
class NumericalWindow:
    """A numerical window column as counts over the profile's grid cells.

    ``n`` counts the finite values that the tests use, ``min`` and ``max`` bound them.
    ``sum_below`` and ``sum_above`` are the sums of the finite values below the reference minimum
    and above its maximum. ``values`` holds the sorted finite values when they were kept for the
    exact tests, else None.
    """

    n_rows: int
    n_missing: int
    n_infinite: int
    n_type_errors: int
    n: int
    min: float | None
    max: float | None
    cell_counts: IntArray
    sum_below: float
    sum_above: float
    values: FloatArray | None
    notes: tuple[str, ...]

    @property
    def n_out_of_range(self) -> int:
        """Finite values outside the reference range, plus the infinities."""
        return int(self.cell_counts[0] + self.cell_counts[-1]) + self.n_infinite


@dataclass(frozen=True, slots=True)
class CategoricalWindow:
    """A categorical window column as counts per reference category plus unseen categories (most
    frequent first)."""

    n_rows: int
    n_missing: int
    n_type_errors: int
    counts: tuple[int, ...]
    new_categories: tuple[str, ...]
    new_counts: tuple[int, ...]
    notes: tuple[str, ...]

    @property
    def n(self) -> int:
        return sum(self.counts) + sum(self.new_counts)

    @property
    def n_new(self) -> int:
        return sum(self.new_counts)


FeatureWindow = NumericalWindow | CategoricalWindow


def summarize(profile: FeatureProfile, series: pd.Series, *, keep_values: int = 0) -> FeatureWindow:
    """Summarise one window column; keep its sorted values when the profile has its full sample
    and the window has at most ``keep_values`` finite values."""
    if isinstance(profile, NumericalProfile):
        return _summarize_numerical(profile, series, keep_values)
    return _summarize_categorical(profile, series)


def _summarize_numerical(
    profile: NumericalProfile, series: pd.Series, keep_values: int
) -> NumericalWindow:
    column = read_numerical(series)
    ordered = np.sort(column.values)
    cells = count_cells(profile.grid, ordered)
    n = int(ordered.size)
    below, above = (int(cells[0]), int(cells[-1])) if profile.grid.size else (0, 0)
    keep = profile.sample is not None and n <= keep_values
    notes = _type_error_notes(column.n_type_errors, column.type_error_examples)
    if column.n_infinite:
        notes += (f"{column.n_infinite} infinite value(s) excluded from the tests",)
    return NumericalWindow(
        n_rows=column.n_rows,
        n_missing=column.n_missing,
        n_infinite=column.n_infinite,
        n_type_errors=column.n_type_errors,
        n=n,
        min=float(ordered[0]) if n else None,
        max=float(ordered[-1]) if n else None,
        cell_counts=cells,
        sum_below=float(ordered[:below].sum()),
        sum_above=float(ordered[n - above :].sum()),
        values=ordered if keep else None,
        notes=notes,
    )


def _summarize_categorical(profile: CategoricalProfile, series: pd.Series) -> CategoricalWindow:
    column = read_categorical(series, profile.spec.kind)
    observed = dict(zip(column.labels, column.counts, strict=True))
    known = set(profile.categories)
    # most frequent first, so the first ones listed are the ones that matter
    new = tuple(
        sorted((label for label in column.labels if label not in known), key=lambda c: -observed[c])
    )
    notes = _type_error_notes(column.n_type_errors, column.type_error_examples)
    if len(column.value_types) > 1:
        notes += (f"values of mixed types ({', '.join(column.value_types)}) compared as text",)
    return CategoricalWindow(
        n_rows=column.n_rows,
        n_missing=column.n_missing,
        n_type_errors=column.n_type_errors,
        counts=tuple(observed.get(category, 0) for category in profile.categories),
        new_categories=new,
        new_counts=tuple(observed[label] for label in new),
        notes=notes,
    )


def _type_error_notes(count: int, examples: tuple[str, ...]) -> tuple[str, ...]:
    if not count:
        return ()
    return (f"{count} value(s) of the wrong type excluded (e.g. {', '.join(examples)})",)
