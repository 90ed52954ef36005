"""Worst slices: the segment values (and pairs of them) where realized quality fell most.

Each row carries a ``score`` where higher is better (1 or 0 for a correct or wrong
classification, minus the absolute error for a regression). A slice is every row with one value
of one ``segment_by`` column, or one pair of values of two columns. Each slice's mean score in
the window is compared with the same slice in the reference (or, when the reference has under
``min_rows`` of it, with the whole reference) by a Welch z-test, and the drops are judged
together: each drop's interval is simultaneous over every slice tested (Bonferroni, two-sided),
and a slice is ``significant`` only when its interval excludes no change (its lower end is above
0), so a window with no real drop reports a significant slice in at most ``alpha`` of runs.
Slices are ranked by the lower end of their drop's interval: a big drop that is also certain
comes first.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> n = 20_000
>>> frame = pd.DataFrame(
...     {"region": rng.choice(["eu", "us"], n), "plan": rng.choice(["free", "pro"], n)}
... )
>>> reference = frame.assign(correct=(rng.random(n) < 0.9).astype(float))
>>> hit = (frame.region == "eu") & (frame.plan == "free")
>>> current = frame.assign(correct=(rng.random(n) < np.where(hit, 0.7, 0.9)).astype(float))
>>> top = worst_slices(reference, current, ["region", "plan"])[0]
>>> top.values, top.significant
(('eu', 'free'), True)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from detectors.segments import MISSING
from detectors.validation import check_float, check_int

MIN_ROWS = 100


@dataclass(frozen=True, slots=True)
class Slice:
    """One slice's quality in the window against its baseline.

    ``drop`` is baseline minus window mean score (positive: worse); ``lower``/``upper`` bound it
    simultaneously over all slices tested; ``baseline`` is ``"slice"`` when the reference had the
    same slice, ``"reference"`` when it was compared with the whole reference.
    """

    columns: tuple[str, ...]
    values: tuple[str, ...]
    n_cur: int
    n_ref: int
    current: float
    reference: float
    baseline: str
    drop: float
    lower: float
    upper: float
    p_value: float
    adjusted_p_value: float
    significant: bool


Stats = tuple[float, float, int]  # mean score, its variance, rows


def _groups(
    frame: pd.DataFrame, columns: tuple[str, ...], score: str
) -> dict[tuple[str, ...], Stats]:
    keys = [frame[column].astype("string").fillna(MISSING) for column in columns]
    grouped = frame[score].groupby(keys, observed=True).agg(["mean", "var", "count"])
    return {
        tuple(str(v) for v in (key if isinstance(key, tuple) else (key,))): (
            float(mean),
            0.0 if math.isnan(var) else float(var),
            int(count),
        )
        for key, mean, var, count in grouped.itertuples()
    }


Candidate = tuple[tuple[str, ...], tuple[str, ...], Stats, Stats, str]


def _candidates(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    segment_by: Sequence[str],
    score: str,
    min_rows: int,
) -> list[Candidate]:
    """Every slice with ``min_rows`` window rows, with its window and baseline statistics."""
    whole: Stats = (float(reference[score].mean()), float(reference[score].var()), len(reference))
    rows: list[Candidate] = []
    for size in (1, 2):
        for columns in itertools.combinations(segment_by, size):
            baseline = _groups(reference, columns, score)
            for values, window in _groups(current, columns, score).items():
                if window[2] < min_rows:
                    continue
                same = baseline.get(values)
                if same is not None and same[2] >= min_rows:
                    rows.append((columns, values, window, same, "slice"))
                else:
                    rows.append((columns, values, window, whole, "reference"))
    return rows


def worst_slices(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    segment_by: Sequence[str],
    *,
    score: str = "correct",
    min_rows: int = MIN_ROWS,
    alpha: float = 0.05,
    top: int = 10,
) -> tuple[Slice, ...]:
    """The ``top`` slices by the lower end of their drop's interval (see the module docstring)."""
    check_int("min_rows", min_rows, 2, 10_000_000)
    check_float("alpha", alpha, 0.0, 0.5, open_low=True)
    check_int("top", top, 1, 10_000)
    for name, frame in (("reference", reference), ("current", current)):
        missing = [c for c in (*segment_by, score) if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks column(s) {missing} needed for slices")
    rows = _candidates(reference, current, segment_by, score, min_rows)
    if not rows:
        return ()
    tested = len(rows)
    z = stats.norm.ppf(1 - alpha / (2 * tested))
    slices = []
    for columns, values, (mean, var, n_cur), (ref_mean, ref_var, n_ref), baseline in rows:
        drop = ref_mean - mean
        se = math.sqrt(var / n_cur + ref_var / n_ref)
        p_value = float(stats.norm.sf(drop / se)) if se > 0 else float(drop <= 0)
        adjusted = min(1.0, 2 * tested * p_value)  # two-sided, as the interval
        slices.append(
            Slice(
                columns=columns,
                values=values,
                n_cur=n_cur,
                n_ref=n_ref,
                current=mean,
                reference=ref_mean,
                baseline=baseline,
                drop=drop,
                lower=drop - z * se,
                upper=drop + z * se,
                p_value=p_value,
                adjusted_p_value=adjusted,
                significant=adjusted < alpha,
            )
        )
    ranked = sorted(slices, key=lambda s: (not s.significant, -s.lower, -s.drop))
    return tuple(ranked[:top])


__all__ = ["Slice", "worst_slices"]
