"""Summarising a window column against its reference profile: the counts every test reads.

Each column is read and binned once per run; the tests and the data-quality checks then work on
these small summaries, never on the raw window again (except the exact tests on small windows,
which keep the sorted values). Summaries of disjoint parts of a window merge
(:func:`merge_windows`) into exactly the summary of the whole, so a window can be read in batches,
or split across workers, in bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from detectors.columns import (
    TYPE_ERROR_EXAMPLES,
    FloatArray,
    IntArray,
    read_categorical,
    read_numerical,
)
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
    type_error_examples: tuple[str, ...]

    @property
    def notes(self) -> tuple[str, ...]:
        notes = _type_error_notes(self.n_type_errors, self.type_error_examples)
        if self.n_infinite:
            notes += (f"{self.n_infinite} infinite value(s) excluded from the tests",)
        return notes

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
    type_error_examples: tuple[str, ...]
    value_types: tuple[str, ...]

    @property
    def notes(self) -> tuple[str, ...]:
        notes = _type_error_notes(self.n_type_errors, self.type_error_examples)
        if len(self.value_types) > 1:
            notes += (f"values of mixed types ({', '.join(self.value_types)}) compared as text",)
        return notes

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
        type_error_examples=column.type_error_examples,
    )


def _summarize_categorical(profile: CategoricalProfile, series: pd.Series) -> CategoricalWindow:
    column = read_categorical(series, profile.spec.kind)
    observed = dict(zip(column.labels, column.counts, strict=True))
    known = set(profile.categories)
    # most frequent first, so the first ones listed are the ones that matter
    new = tuple(
        sorted((label for label in column.labels if label not in known), key=lambda c: -observed[c])
    )
    return CategoricalWindow(
        n_rows=column.n_rows,
        n_missing=column.n_missing,
        n_type_errors=column.n_type_errors,
        counts=tuple(observed.get(category, 0) for category in profile.categories),
        new_categories=new,
        new_counts=tuple(observed[label] for label in new),
        type_error_examples=column.type_error_examples,
        value_types=column.value_types,
    )


def merge_windows(
    first: FeatureWindow, second: FeatureWindow, *, keep_values: int
) -> FeatureWindow:
    """The summary of two disjoint parts of one window column, equal to summarising them together
    (the sums of out-of-range values up to floating-point rounding); ``keep_values`` as for
    :func:`summarize`, which both parts must have been summarised with."""
    if isinstance(first, NumericalWindow) and isinstance(second, NumericalWindow):
        return _merge_numerical(first, second, keep_values)
    if isinstance(first, CategoricalWindow) and isinstance(second, CategoricalWindow):
        return _merge_categorical(first, second)
    raise TypeError("cannot merge summaries of a numerical and a categorical column")


def _merge_numerical(first: NumericalWindow, second: NumericalWindow, keep: int) -> NumericalWindow:
    if first.cell_counts.shape != second.cell_counts.shape:
        raise ValueError("window summaries on different reference grids cannot be merged")
    n = first.n + second.n
    values = None
    if first.values is not None and second.values is not None and n <= keep:
        values = np.sort(np.concatenate([first.values, second.values]), kind="mergesort")
    bounds = [b for b in (first.min, first.max, second.min, second.max) if b is not None]
    return NumericalWindow(
        n_rows=first.n_rows + second.n_rows,
        n_missing=first.n_missing + second.n_missing,
        n_infinite=first.n_infinite + second.n_infinite,
        n_type_errors=first.n_type_errors + second.n_type_errors,
        n=n,
        min=min(bounds) if bounds else None,
        max=max(bounds) if bounds else None,
        cell_counts=first.cell_counts + second.cell_counts,
        sum_below=first.sum_below + second.sum_below,
        sum_above=first.sum_above + second.sum_above,
        values=values,
        type_error_examples=_first_examples(first.type_error_examples, second.type_error_examples),
    )


def _merge_categorical(first: CategoricalWindow, second: CategoricalWindow) -> CategoricalWindow:
    if len(first.counts) != len(second.counts):
        raise ValueError("window summaries on different reference categories cannot be merged")
    new = dict(zip(first.new_categories, first.new_counts, strict=True))
    for label, count in zip(second.new_categories, second.new_counts, strict=True):
        new[label] = new.get(label, 0) + count
    ordered = sorted(new, key=lambda label: (-new[label], label))
    return CategoricalWindow(
        n_rows=first.n_rows + second.n_rows,
        n_missing=first.n_missing + second.n_missing,
        n_type_errors=first.n_type_errors + second.n_type_errors,
        counts=tuple(a + b for a, b in zip(first.counts, second.counts, strict=True)),
        new_categories=tuple(ordered),
        new_counts=tuple(new[label] for label in ordered),
        type_error_examples=_first_examples(first.type_error_examples, second.type_error_examples),
        value_types=tuple(sorted(set(first.value_types) | set(second.value_types))),
    )


def _first_examples(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    """The first few distinct examples of both parts, in reading order."""
    return tuple(dict.fromkeys(first + second))[:TYPE_ERROR_EXAMPLES]


def _type_error_notes(count: int, examples: tuple[str, ...]) -> tuple[str, ...]:
    if not count:
        return ()
    return (f"{count} value(s) of the wrong type excluded (e.g. {', '.join(examples)})",)
