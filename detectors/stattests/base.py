"""What every statistical test shares: the contract, degenerate inputs and the result assembly.

A test is a small frozen dataclass holding its thresholds (its config); :meth:`StatTest.test`
reads a reference profile and a window summary and returns one :class:`DriftResult`.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar, NamedTuple, TypeVar

from detectors.profile import CategoricalProfile, FeatureProfile, NumericalProfile
from detectors.quality import escaped
from detectors.results import DriftResult, is_drift
from detectors.schema import FeatureKind
from detectors.stattests.categories import compared_unseen
from detectors.validation import check_float
from detectors.window import CategoricalWindow, FeatureWindow, NumericalWindow

# DriftResult.new_categories lists the most frequent ones; a window of ids can bring thousands.
NEW_CATEGORIES_LISTED = 10

ProfileT = TypeVar("ProfileT", NumericalProfile, CategoricalProfile)
WindowT = TypeVar("WindowT", NumericalWindow, CategoricalWindow)


class Outcome(NamedTuple):
    """What a test computes before the shared decision and bookkeeping."""

    statistic: float
    effect_size: float
    p_value: float | None
    method: str
    notes: tuple[str, ...] = ()


class StatTest(ABC):
    """Base of the registered tests.

    Subclasses are frozen dataclasses whose fields are the test's configuration and include
    ``threshold`` (on the effect size) and ``p_value_threshold`` (None for tests without a
    p-value). ``name`` is the registry name; ``kinds`` the feature kinds the test accepts.
    """

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]
    name: ClassVar[str]
    kinds: ClassVar[frozenset[FeatureKind]]
    max_threshold: ClassVar[float]
    threshold: float
    p_value_threshold: float | None

    def __post_init__(self) -> None:
        """Validate the thresholds: effect size in (0, max_threshold], p-value in (0, 1]."""
        check_float("threshold", self.threshold, 0.0, self.max_threshold, open_low=True)
        if self.p_value_threshold is not None:
            check_float("p_value_threshold", self.p_value_threshold, 0.0, 1.0, open_low=True)

    def test(self, reference: FeatureProfile, window: FeatureWindow) -> DriftResult:
        """Compare a window summary with the reference profile of the same feature."""
        if reference.spec.kind not in self.kinds:
            raise ValueError(
                f"test {self.name!r} cannot run on {reference.spec.kind.value} feature "
                f"{reference.name!r}; it accepts {', '.join(sorted(self.kinds))}"
            )
        n_ref, n_cur = reference.n, window.n
        if n_ref == 0 or n_cur == 0:
            outcome = Outcome(math.nan, math.nan, None, "none", (_empty_note(n_ref, window),))
        else:
            outcome = self._compute(reference, window)
            outcome = outcome._replace(notes=_shape_notes(reference, window) + outcome.notes)
        notes = outcome.notes + window.notes
        p_threshold = self.p_value_threshold
        return DriftResult(
            feature=reference.name,
            test=self.name,
            method=outcome.method,
            statistic=outcome.statistic,
            effect_size=outcome.effect_size,
            p_value=outcome.p_value,
            adjusted_p_value=outcome.p_value,
            threshold=self.threshold,
            p_value_threshold=p_threshold,
            drifted=is_drift(outcome.effect_size, outcome.p_value, self.threshold, p_threshold),
            n_ref=n_ref,
            n_cur=n_cur,
            new_categories=(
                window.new_categories[:NEW_CATEGORIES_LISTED]
                if isinstance(window, CategoricalWindow)
                else ()
            ),
            message="; ".join(notes) if notes else None,
        )

    @abstractmethod
    def _compute(self, reference: FeatureProfile, window: FeatureWindow) -> Outcome:
        """The statistic on a non-empty reference and window of an accepted kind."""

    def values_needed(self) -> int:
        """Largest window whose sorted values this test wants for an exact computation."""
        return 0

    def to_dict(self) -> dict[str, Any]:
        """The test's configuration: its registry name and constructor arguments."""
        params = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        return {"test": self.name, **params}


def effective_size(n_ref: int, n_cur: int) -> float:
    """The two-sample effective size n_ref * n_cur / (n_ref + n_cur)."""
    return n_ref * n_cur / (n_ref + n_cur)


def narrow(
    reference: FeatureProfile,
    window: FeatureWindow,
    profile_type: type[ProfileT],
    window_type: type[WindowT],
) -> tuple[ProfileT, WindowT]:
    """The (reference, window) pair as the types the kind check guaranteed."""
    if not (isinstance(reference, profile_type) and isinstance(window, window_type)):
        raise TypeError(f"feature {reference.name!r}: profile and window of unexpected kinds")
    return reference, window


def _empty_note(n_ref: int, window: FeatureWindow) -> str:
    if n_ref == 0:
        return "reference has no usable values for this feature; nothing to compare"
    if window.n_rows == 0:
        return "window is empty; nothing to compare"
    dropped = f"{window.n_missing} missing, {window.n_type_errors} of the wrong type"
    if isinstance(window, NumericalWindow):
        dropped += f", {window.n_infinite} infinite"
    return f"window has no usable values ({window.n_rows} rows: {dropped}); nothing to compare"


def _shape_notes(reference: FeatureProfile, window: FeatureWindow) -> tuple[str, ...]:
    """Messages for degenerate but computable inputs."""
    notes: list[str] = []
    if isinstance(reference, NumericalProfile) and isinstance(window, NumericalWindow):
        if reference.std == 0:
            notes.append(f"reference is constant ({reference.min!r})")
        if window.n > 1 and window.min == window.max:
            notes.append("window is constant")
    elif isinstance(reference, CategoricalProfile) and isinstance(window, CategoricalWindow):
        if len(reference.categories) == 1:
            notes.append(f"reference has a single category ({reference.categories[0]!r})")
        if window.new_categories:
            notes.append(_unseen_note(reference, window))
    return tuple(notes)


def _unseen_note(reference: CategoricalProfile, window: CategoricalWindow) -> str:
    listed = window.new_categories[:NEW_CATEGORIES_LISTED]
    which = ", ".join(escaped(c) for c in listed)
    if len(window.new_categories) > len(listed):
        which += f" and {len(window.new_categories) - len(listed)} more"
    only = "only " if window.n_new == window.n else ""
    note = f"window has {only}categories unseen in the reference: {which}"
    left_out = window.n_new - compared_unseen(reference, window)
    if left_out:
        note += f"; {left_out} of their rows left to the data-quality check, not drift"
    return note
