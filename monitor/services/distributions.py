"""A column's distribution in the reference against a monitor's latest windows, for the dashboard.

The reference side comes from the stored profile (its quantile grid and category counts); each
window is read from the columnar segments, as a run reads it, and counted on the same grid.
"""

from datetime import datetime
from functools import lru_cache

import numpy as np
from pydantic import BaseModel
from sqlmodel import Session

from detectors import ReferenceProfile
from detectors.columns import IntArray, read_categorical, read_numerical
from detectors.profile import CategoricalProfile, NumericalProfile, count_cells
from monitor.entities.monitor import Monitor
from monitor.entities.reference import ReferenceDataset
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.run import MonitorRun
from monitor.runs.window_frames import frame_for, window_for
from monitor.services.errors import NotFound
from monitor.services.references import reference_for
from monitor.services.runs import latest_succeeded_runs
from monitor.store.types import utc_now
from monitor.versions.champion import champion_at
from monitor.windows.reader import VersionScope, load_window


class WindowShares(BaseModel):
    run_id: int
    window_start: datetime
    window_end: datetime
    n: int
    shares: list[float]


class CumulativeDistributions(BaseModel):
    """Both CDFs at the reference's quantile grid and the largest gap between them (KS)."""

    x: list[float]
    reference: list[float]
    current: list[float]
    ks_distance: float


class ColumnDistribution(BaseModel):
    column: str
    kind: str
    monitor: str
    bins: list[str]
    reference: list[float]
    n_reference: int
    windows: list[WindowShares]
    cdf: CumulativeDistributions | None


def _bound(grid: np.ndarray, cell: int, upper: bool) -> str:
    """Cell 2k+1 is the value grid[k]; cell 2k the open gap before it (see detectors.profile)."""
    if cell % 2:
        return f"{grid[cell // 2]:.4g}"
    return f"{grid[cell // 2 - (0 if upper else 1)]:.4g}"


def _bin_labels(profile: NumericalProfile) -> list[str]:
    starts = profile.bin_starts().tolist()
    ends = [*starts[1:], profile.cell_counts.size]
    labels = [f"< {profile.grid[0]:.4g}"]
    for start, end in zip(starts[1:-1], ends[1:-1], strict=True):
        low, high = _bound(profile.grid, start, False), _bound(profile.grid, end - 1, True)
        opening = "[" if start % 2 else "("
        closing = "]" if (end - 1) % 2 else ")"
        labels.append(f"{low}" if low == high else f"{opening}{low}, {high}{closing}")
    labels.append(f"> {profile.grid[-1]:.4g}")
    return labels


def _shares(counts: IntArray | list[int]) -> list[float]:
    total = float(np.sum(counts))
    return [float(c) / total if total else 0.0 for c in counts]


def _cdf(cells: IntArray) -> np.ndarray:
    """The CDF at each grid value: cells up to and including the value's own cell."""
    cumulative = np.cumsum(cells)[1::2]
    total = cells.sum()
    return cumulative / total if total else np.zeros(cumulative.size)


@lru_cache(maxsize=8)
def _parsed(stored: str) -> ReferenceProfile:
    """Parsing a wide profile takes longer than the rest of a page; a stored one never changes."""
    return ReferenceProfile.from_json(stored)


def _reference_of(
    session: Session, model: RegisteredModel, monitor: Monitor, runs: list[MonitorRun]
) -> ReferenceDataset:
    """The reference the newest window was judged against (the one it would be judged against
    now, before any run)."""
    newest = runs[-1].reference_id if runs else None
    stored = session.get(ReferenceDataset, newest) if newest is not None else None
    if stored is not None:
        return stored
    version = monitor.settings.model_version or champion_at(session, model.id, utc_now())  # type: ignore[arg-type]
    return reference_for(session=session, model=model, version=version)


def _profile_of(
    model: RegisteredModel, reference: ReferenceDataset, column: str
) -> ReferenceProfile:
    profiles = [_parsed(reference.feature_profile), _parsed(reference.output_profile)]
    for profile in profiles:
        if column in {spec.name for spec in profile.schema}:
            return profile
    names = [spec.name for profile in profiles for spec in profile.schema]
    raise NotFound(
        f"model {model.name!r} has no column {column!r} in its reference; columns: "
        + ", ".join(names)
    )


def column_distribution(
    *, session: Session, model: RegisteredModel, monitor: Monitor, column: str, windows: int
) -> ColumnDistribution:
    """Shares per reference bin (numerical) or category, in the reference and in each of the
    monitor's latest `windows` succeeded windows (oldest first), and both CDFs of the newest."""
    runs = latest_succeeded_runs(session=session, monitor=monitor, windows=windows)
    profile = _profile_of(model, _reference_of(session, model, monitor, runs), column)
    feature = profile.feature(column)
    columns = []
    connection = session.connection()
    pinned = monitor.settings.model_version is not None
    for run in runs:
        window = window_for(monitor.settings, run.window_end)
        scope = VersionScope.judged(run.model_version, pinned=pinned)
        table = load_window(connection, monitor.model_id, model.data_schema, window, scope)
        columns.append(frame_for(table, profile)[column])
    shares: list[list[float]] = []
    cdf = None
    if isinstance(feature, CategoricalProfile):
        categories = list(feature.categories)
        current_counts = []
        for series in columns:
            counted = read_categorical(series, feature.spec.kind)
            by_label = dict(zip(counted.labels, counted.counts, strict=True))
            categories += [label for label in counted.labels if label not in categories]
            current_counts.append(by_label)
        bins = categories
        reference = _shares([*feature.counts, *[0] * (len(categories) - len(feature.counts))])
        shares = [_shares([counts.get(c, 0) for c in categories]) for counts in current_counts]
        sizes = [sum(counts.values()) for counts in current_counts]
    else:
        cells = [count_cells(feature.grid, np.sort(read_numerical(s).values)) for s in columns]
        bins = _bin_labels(feature) if feature.grid.size else ["(no finite values)"]
        reference = _shares(feature.bin_counts(feature.cell_counts))
        shares = [_shares(feature.bin_counts(window)) for window in cells]
        sizes = [int(window.sum()) for window in cells]
        if cells and feature.grid.size and cells[-1].sum():
            reference_cdf, current_cdf = _cdf(feature.cell_counts), _cdf(cells[-1])
            cdf = CumulativeDistributions(
                x=feature.grid.tolist(),
                reference=reference_cdf.tolist(),
                current=current_cdf.tolist(),
                ks_distance=float(np.max(np.abs(reference_cdf - current_cdf))),
            )
    return ColumnDistribution(
        column=column,
        kind=feature.spec.kind.value,
        monitor=monitor.name,
        bins=bins,
        reference=reference,
        n_reference=feature.n,
        windows=[
            WindowShares(
                run_id=run.id,  # type: ignore[arg-type]
                window_start=run.window_start,
                window_end=run.window_end,
                n=size,
                shares=window_shares,
            )
            for run, size, window_shares in zip(runs, sizes, shares, strict=True)
        ],
        cdf=cdf,
    )
