"""Drift per segment: each segment's window against the same segment's reference.

Segments are the rows sharing the values of the ``segment_by`` columns (e.g. ``region``, or
``region`` and ``plan``). Segments differ from each other by nature, so each is compared with its
own part of the reference, not with the whole. Every segment x feature x test p-value is corrected
together (Benjamini-Hochberg by default), so adding segments does not add false alarms. Segments
with fewer than ``min_rows`` rows (in the reference or the window) are not judged and are listed
as skipped with the reason.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> reference = pd.DataFrame({"region": ["eu", "us"] * 500, "x": rng.normal(size=1000)})
>>> profile = SegmentedProfile.fit(reference, [FeatureSpec("x", "numerical")], ["region"])
>>> window = reference.assign(x=np.where(reference.region == "eu", reference.x + 1, reference.x))
>>> [s.segment for s in detect_segment_drift(profile, window).segments if s.report.drifted]
[('eu',)]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from detectors.config import DriftConfig
from detectors.correction import correct
from detectors.documents import StoredDocument
from detectors.drift import summarize_frame, uncorrected_results
from detectors.profile import ReferenceProfile
from detectors.results import DatasetDriftReport
from detectors.schema import FeatureSpec
from detectors.validation import check_int

# A segment is judged only with this many rows in the reference and in the window: below it the
# categorical tests pool almost everything and the numerical ones lose their power.
MIN_ROWS = 200
MAX_SEGMENTS = 100
MAX_SEGMENT_COLUMNS = 3
MISSING = "(missing)"

SegmentKey = tuple[str, ...]


def segment_keys(frame: pd.DataFrame, segment_by: Sequence[str]) -> pd.Series:
    """Each row's segment as a tuple of strings (a missing value is the segment ``(missing)``)."""
    missing = [column for column in segment_by if column not in frame.columns]
    if missing:
        raise ValueError(
            f"segment column(s) {missing} are not in the data; its columns are {list(frame)}"
        )
    parts = [frame[column].astype("string").fillna(MISSING) for column in segment_by]
    return pd.Series(list(zip(*parts, strict=True)), index=frame.index, dtype=object)


def _sizes(keys: pd.Series) -> dict[SegmentKey, int]:
    """Rows per segment, in a stable order."""
    counts = keys.value_counts()
    return {
        tuple(str(value) for value in key): int(size)  # type: ignore[attr-defined]
        for key, size in sorted(counts.items())
    }


@dataclass(frozen=True, slots=True)
class SegmentedProfile(StoredDocument):
    """One reference profile per segment with at least ``min_rows`` reference rows."""

    FORMAT: ClassVar[str] = "segmented-profile"
    VERSION: ClassVar[int] = 1

    segment_by: tuple[str, ...]
    segments: tuple[tuple[SegmentKey, ReferenceProfile], ...]
    min_rows: int

    @classmethod
    def fit(
        cls,
        reference: pd.DataFrame,
        schema: Iterable[FeatureSpec],
        segment_by: Sequence[str],
        *,
        min_rows: int = MIN_ROWS,
        max_segments: int = MAX_SEGMENTS,
    ) -> SegmentedProfile:
        """Fit a profile on each large enough segment; more than ``max_segments`` is refused."""
        check_int("min_rows", min_rows, 20, 10_000_000)
        if not 1 <= len(segment_by) <= MAX_SEGMENT_COLUMNS:
            raise ValueError(
                f"segment_by names {len(segment_by)} columns; give 1 to {MAX_SEGMENT_COLUMNS}"
            )
        specs = tuple(schema)
        overlap = {spec.name for spec in specs} & set(segment_by)
        features = [spec for spec in specs if spec.name not in overlap]
        keys = segment_keys(reference, segment_by)
        kept = [key for key, size in _sizes(keys).items() if size >= min_rows]
        if len(kept) > max_segments:
            raise ValueError(
                f"segment_by {list(segment_by)} gives {len(kept)} segments of at least "
                f"{min_rows} rows; at most {max_segments} are judged: segment by coarser "
                "columns, or raise min_rows"
            )
        profiles = tuple(
            (key, ReferenceProfile.fit(reference.loc[keys == key], features)) for key in kept
        )
        return cls(tuple(segment_by), profiles, min_rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.header(),
            "segment_by": list(self.segment_by),
            "min_rows": self.min_rows,
            "segments": [
                {"key": list(key), "profile": profile.to_dict()} for key, profile in self.segments
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentedProfile:
        cls.check_header(data)
        return cls(
            segment_by=tuple(data["segment_by"]),
            segments=tuple(
                (tuple(item["key"]), ReferenceProfile.from_dict(item["profile"]))
                for item in data["segments"]
            ),
            min_rows=int(data["min_rows"]),
        )


@dataclass(frozen=True, slots=True)
class SegmentDrift:
    """One judged segment: its values (in ``segment_by`` order), row counts and drift report."""

    segment: SegmentKey
    n_ref: int
    n_cur: int
    report: DatasetDriftReport


@dataclass(frozen=True, slots=True)
class SkippedSegment:
    segment: SegmentKey
    n_cur: int
    reason: str


@dataclass(frozen=True, slots=True)
class SegmentedDriftReport:
    """Drift of every judged segment, corrected across all segments' tests together."""

    segment_by: tuple[str, ...]
    segments: tuple[SegmentDrift, ...]
    skipped: tuple[SkippedSegment, ...]

    @property
    def drifted_segments(self) -> tuple[SegmentKey, ...]:
        return tuple(s.segment for s in self.segments if s.report.drifted_features)


def detect_segment_drift(
    profile: SegmentedProfile, current: pd.DataFrame, config: DriftConfig | None = None
) -> SegmentedDriftReport:
    """Judge each segment of ``current`` that has a reference profile and ``min_rows`` rows."""
    config = config or DriftConfig()
    keys = segment_keys(current, profile.segment_by)
    references = dict(profile.segments)
    judged, skipped = [], []
    for key, size in _sizes(keys).items():
        if key not in references:
            skipped.append(
                SkippedSegment(key, size, f"under {profile.min_rows} rows in the reference")
            )
        elif size < profile.min_rows:
            skipped.append(SkippedSegment(key, size, f"under {profile.min_rows} rows"))
        else:
            summary = summarize_frame(references[key], current.loc[keys == key], config)
            judged.append((key, size, uncorrected_results(references[key], summary, config)))
    corrected = iter(correct([r for _, _, u in judged for r in u.results], config.correction))
    segments = tuple(
        SegmentDrift(
            key,
            references[key].features[0].n_rows if references[key].features else 0,
            size,
            tested.report([next(corrected) for _ in tested.results], config),
        )
        for key, size, tested in judged
    )
    return SegmentedDriftReport(profile.segment_by, segments, tuple(skipped))
