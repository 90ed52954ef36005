"""Data-quality checks computed from the same window summary as the drift tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats

from detectors.profile import CategoricalProfile, FeatureProfile, NumericalProfile
from detectors.results import QualityResult
from detectors.validation import check_float
from detectors.window import CategoricalWindow, FeatureWindow, NumericalWindow

EXAMPLES = 5
_EXAMPLE_LENGTH = 40
# A check fails only when its count is this unlikely at the share it tolerates: a 240-row window
# at a 1.7% limit fails from 12 rows (5%), not from the 5 that chance alone brings in 2% of windows.
SIGNIFICANCE = 0.001


@dataclass(frozen=True, slots=True)
class QualityThresholds:
    """Largest acceptable shares of a window's rows.

    ``max_missing_increase`` is relative to the reference: the window fails when its missing share
    exceeds the reference's by more than this (a non-nullable feature fails on any missing
    value). ``max_new_category_share`` is relative too: to the share of unseen categories the
    reference leads us to expect (Good-Turing, see
    :attr:`detectors.profile.CategoricalProfile.expected_unseen_share`; 0 for a few categories),
    and ``max_out_of_range_share`` to the share of values a reference of its size leads us to
    expect outside its [min, max] (:func:`expected_out_of_range_share`; infinities count). The
    type-error limit is absolute. Every check also needs its count to be beyond chance at its
    limit (:data:`SIGNIFICANCE`).

    >>> QualityThresholds(max_out_of_range_share=1.5)
    Traceback (most recent call last):
    ...
    ValueError: max_out_of_range_share must be a number in [0.0, 1.0], got 1.5
    """

    max_missing_increase: float = 0.05
    max_out_of_range_share: float = 0.01
    max_new_category_share: float = 0.01
    max_type_error_share: float = 0.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            check_float(name, value, 0.0, 1.0, open_low=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityThresholds:
        return cls(**data)


def check_quality(
    reference: FeatureProfile, window: FeatureWindow, thresholds: QualityThresholds
) -> tuple[QualityResult, ...]:
    """The missing and type-error checks for every feature, plus out-of-range for numerical and
    new-category for categorical and boolean features."""
    name = reference.name
    if reference.spec.nullable:
        ref_missing = reference.n_missing / reference.n_rows if reference.n_rows else 0.0
        missing_limit = min(1.0, ref_missing + thresholds.max_missing_increase)
    else:
        missing_limit = 0.0
    checks = [
        _check(name, "missing", window.n_missing, window.n_rows, missing_limit),
        _check(
            name, "type_error", window.n_type_errors, window.n_rows, thresholds.max_type_error_share
        ),
    ]
    if isinstance(window, NumericalWindow) and isinstance(reference, NumericalProfile):
        expected = expected_out_of_range_share(reference.n)
        checks.append(
            _check(
                name,
                "out_of_range",
                window.n_out_of_range,
                window.n_rows,
                min(1.0, expected + thresholds.max_out_of_range_share),
                f"reference range [{reference.min!r}, {reference.max!r}]; its {reference.n} "
                f"values lead us to expect {expected:.2%} of rows outside it",
            )
        )
    if isinstance(window, CategoricalWindow) and isinstance(reference, CategoricalProfile):
        checks.append(_new_category_check(reference, window, thresholds.max_new_category_share))
    return tuple(checks)


def expected_out_of_range_share(n: int) -> float:
    """The share of new values that fall outside the range of a reference of `n` values with
    no drift at all: a new draw is the smallest or the largest of ``n + 1`` exchangeable values
    with probability ``2 / (n + 1)``.

    >>> round(expected_out_of_range_share(299), 4)
    0.0067
    """
    return 2.0 / (n + 1) if n else 0.0


def _new_category_check(
    reference: CategoricalProfile, window: CategoricalWindow, max_share: float
) -> QualityResult:
    """Values in categories the reference never saw, with the most frequent as examples."""
    expected = reference.expected_unseen_share
    examples = tuple(escaped(label) for label in window.new_categories[:EXAMPLES])
    more = len(window.new_categories) - len(examples)
    message = f"{len(window.new_categories)} new categories: {', '.join(examples)}"
    if more:
        message += f" and {more} more"
    if expected:
        message += f" (the reference leads us to expect {expected:.1%} of rows unseen)"
    result = _check(
        reference.name,
        "new_category",
        window.n_new,
        window.n_rows,
        min(1.0, expected + max_share),
        message,
    )
    return dataclasses.replace(result, examples=examples)


def escaped(label: str) -> str:
    r"""A value as safe, short text for a message: ``repr`` (quotes, control characters escaped),
    cut to 40 characters.

    >>> print(escaped("line\nbreak"), escaped("x" * 50))
    'line\nbreak' 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...
    """
    text = repr(label)
    return text if len(text) <= _EXAMPLE_LENGTH else text[: _EXAMPLE_LENGTH - 3] + "..."


def _check(
    feature: str, check: str, count: int, n_rows: int, threshold: float, message: str | None = None
) -> QualityResult:
    share = count / n_rows if n_rows else 0.0
    failed = share > threshold and _beyond_chance(count, n_rows, threshold)
    return QualityResult(
        feature, check, count, n_rows, share, threshold, failed, message if count else None
    )


def _beyond_chance(count: int, n_rows: int, threshold: float) -> bool:
    """Whether `count` of `n_rows` is more than a share of `threshold` brings by chance (a
    one-sided binomial test at `SIGNIFICANCE`); a zero threshold tolerates nothing."""
    return threshold == 0.0 or float(stats.binom.sf(count - 1, n_rows, threshold)) < SIGNIFICANCE
