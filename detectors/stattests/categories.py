"""Category counts as the tests compare them: rare reference categories and unseen ones pooled into
one "other" cell, so sparse cells of a long tail do not break the chi-squared approximation and
chi-squared, PSI and Jensen-Shannon see the same cells."""

from __future__ import annotations

import numpy as np

from detectors.columns import IntArray
from detectors.profile import CategoricalProfile
from detectors.window import CategoricalWindow

# Cochran's rule: a cell whose expected count is under 5 joins the pooled "other" cell.
MIN_EXPECTED = 5.0
# New categories enter the drift tests only when their window share exceeds the share the
# reference itself leads us to expect unseen (Good-Turing) by this much; below it they are a
# data-quality finding (the ``new_category`` check), not drift.
NEW_CATEGORY_DRIFT_SHARE = 0.05


def new_categories_drift(reference: CategoricalProfile, window: CategoricalWindow) -> bool:
    """Whether the window's unseen categories exceed the share the reference leads us to expect
    unseen by more than :data:`NEW_CATEGORY_DRIFT_SHARE`, so they count as drift."""
    if not window.n_new:
        return False
    excess = window.n_new / window.n - reference.expected_unseen_share
    return excess > NEW_CATEGORY_DRIFT_SHARE


def compared_unseen(reference: CategoricalProfile, window: CategoricalWindow) -> int:
    """How many of the window's unseen-category rows the drift tests compare.

    A long tail always brings categories the reference never saw (they come from the rare
    tail, so they join its "other" cell; leaving them out would shrink that cell and alarm on
    every large window of ids). Up to the Good-Turing count those rows are compared; beyond it
    only when :func:`new_categories_drift`, else the surplus is left to the data-quality check.
    """
    if new_categories_drift(reference, window):
        return window.n_new
    return min(window.n_new, round(reference.expected_unseen_share * window.n))


def category_counts(
    reference: CategoricalProfile, window: CategoricalWindow
) -> tuple[IntArray, IntArray]:
    """Reference and window counts per compared cell: the reference categories that keep a cell of
    their own, then (when anything is pooled) the "other" cell with the rare categories and the
    :func:`compared_unseen` rows."""
    ref = np.asarray(reference.counts, dtype=np.int64)
    cur = np.asarray(window.counts, dtype=np.int64)
    return pool_rare(ref, cur, compared_unseen(reference, window))


def pool_rare(ref: IntArray, cur: IntArray, unseen: int = 0) -> tuple[IntArray, IntArray]:
    """Pool the cells whose expected count in the smaller sample is under :data:`MIN_EXPECTED`,
    plus ``unseen`` window rows that have no reference cell, into one last cell.

    Expected counts are the homogeneity test's own, from both samples together: selecting cells
    on the reference counts alone favours categories the reference happened to over-sample, a
    bias that alarmed on every million-row window of a 50,000-category feature. The pool then
    takes the next smallest cells until its own expected count reaches the minimum; at least
    one cell always stays outside it.

    >>> [c.tolist() for c in pool_rare(np.array([900, 60, 30, 10]), np.array([88, 8, 3, 1]))]
    [[900, 100], [88, 12]]
    """
    totals = ref + cur
    n_ref, n_cur = int(ref.sum()), int(cur.sum()) + unseen
    share = min(n_ref, n_cur) / (n_ref + n_cur)
    expected = share * totals
    pooled = int(np.count_nonzero(expected < MIN_EXPECTED))
    if pooled == 0 and unseen == 0:
        return ref, cur
    order = np.argsort(totals, kind="stable")
    pool_expected = np.r_[0.0, np.cumsum(expected[order])] + share * unseen
    pooled = max(pooled, int(np.searchsorted(pool_expected, MIN_EXPECTED)))
    pooled = min(pooled, ref.size - 1)
    kept = np.sort(order[pooled:])
    rest = order[:pooled]
    return (
        np.r_[ref[kept], ref[rest].sum()].astype(np.int64),
        np.r_[cur[kept], cur[rest].sum() + unseen].astype(np.int64),
    )
