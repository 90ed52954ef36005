"""Drift on embeddings: a kernel two-sample test (MMD) in the reference's principal subspace.

Fit an :class:`EmbeddingProfile` once on the reference vectors (one row per record, any fixed
dimension): it keeps the reference's mean, its first ``components`` principal axes, a bounded
sample projected on them, a kernel bandwidth and a 2-D projection for charts.
:func:`embedding_drift` projects a window's vectors the same way and compares them with the
reference sample by the unbiased squared maximum mean discrepancy (MMD²) under a Gaussian kernel;
its p-value comes from permutations of the pooled sample.

Why the principal subspace and a wide kernel: a sentence encoder moves a paraphrase a little in
many minor directions, and a new topic a lot along the directions that separate topics. In the
reference's leading axes, with a bandwidth of four times the median squared distance, MMD² of a
paraphrase-only window is about a tenth of that of a window where a third of the texts changed
topic (``docs/embeddings.md`` has the table). As with every other test, a window drifts only when
the effect size (MMD²) reaches ``threshold`` *and* the p-value is under ``p_value_threshold``, so
a huge window does not flag a negligible change.

>>> rng = np.random.default_rng(0)
>>> profile = EmbeddingProfile.fit("text", rng.normal(size=(500, 16)))
>>> embedding_drift(profile, rng.normal(size=(300, 16))).drifted
False
>>> embedding_drift(profile, rng.normal(loc=1.0, size=(300, 16))).drifted
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from detectors.documents import StoredDocument
from detectors.validation import check_float, check_int

FloatMatrix = npt.NDArray[np.float64]

METHOD = "mmd_pca"
# Window and reference are each subsampled to this many rows: MMD² on 2,000 + 2,000 rows already
# separates the shifts in the conformance table, and keeps a 10,000-row window under a second.
MAX_SAMPLE = 2_000
# Points kept for the dashboard's scatter of reference against window.
PROJECTION_POINTS = 300
BANDWIDTH_FACTOR = 4.0


def check_vectors(name: str, vectors: object, dimension: int | None = None) -> FloatMatrix:
    """``vectors`` as a finite 2-D float array, or a ValueError naming ``name`` and the fix."""
    array = np.asarray(vectors, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-D array of vectors, got shape {array.shape}"
        )
    if dimension is not None and array.shape[1] != dimension:
        raise ValueError(
            f"{name} has vectors of dimension {array.shape[1]}; the reference's is {dimension}"
        )
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{name} row {int(np.argmax(bad))} holds NaN or infinity; embeddings must be finite"
        )
    return array


def _subsample(vectors: FloatMatrix, size: int, rng: np.random.Generator) -> FloatMatrix:
    if len(vectors) <= size:
        return vectors
    return vectors[rng.choice(len(vectors), size, replace=False)]


def _squared_distances(a: FloatMatrix, b: FloatMatrix) -> FloatMatrix:
    distances: FloatMatrix = np.maximum(
        (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * (a @ b.T), 0.0
    )
    return distances


@dataclass(frozen=True, slots=True)
class EmbeddingProfile(StoredDocument):
    """What a window of vectors is compared with; fit once per reference, stored as JSON."""

    FORMAT: ClassVar[str] = "embedding-profile"
    VERSION: ClassVar[int] = 1

    feature: str
    dimension: int
    n: int
    mean: tuple[float, ...]
    axes: tuple[tuple[float, ...], ...]
    sample: tuple[tuple[float, ...], ...]
    bandwidth: float
    projection: tuple[tuple[float, float], ...]

    @classmethod
    def fit(
        cls,
        feature: str,
        vectors: object,
        *,
        components: int = 10,
        sample_size: int = MAX_SAMPLE,
        seed: int = 0,
    ) -> EmbeddingProfile:
        """Fit on the reference vectors: ``components`` principal axes, and up to
        ``sample_size`` reference rows kept to compare windows with."""
        check_int("components", components, 1, 256)
        check_int("sample_size", sample_size, 20, 100_000)
        array = check_vectors(f"reference of {feature!r}", vectors)
        if len(array) < 20:
            raise ValueError(
                f"reference of {feature!r} has {len(array)} vectors; at least 20 are needed"
            )
        rng = np.random.default_rng(seed)
        sample = _subsample(array, sample_size, rng)
        mean = sample.mean(axis=0)
        _, _, rows = np.linalg.svd(sample - mean, full_matrices=False)
        axes = rows[: min(components, rows.shape[0])]
        projected = (sample - mean) @ axes.T
        head = projected[: min(len(projected), 1_000)]
        distances = _squared_distances(head, head)[np.triu_indices(len(head), 1)]
        median = float(np.median(distances)) if distances.size else 0.0
        bandwidth = BANDWIDTH_FACTOR * median if median > 0 else 1.0
        return cls(
            feature=feature,
            dimension=int(array.shape[1]),
            n=len(array),
            mean=tuple(mean.tolist()),
            axes=tuple(tuple(axis) for axis in axes.tolist()),
            sample=tuple(tuple(row) for row in projected.tolist()),
            bandwidth=bandwidth,
            projection=_plane(projected, rng),
        )

    def project(self, vectors: FloatMatrix) -> FloatMatrix:
        """Coordinates of ``vectors`` on the profile's principal axes."""
        projected: FloatMatrix = (vectors - np.asarray(self.mean)) @ np.asarray(self.axes).T
        return projected

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.header(),
            "feature": self.feature,
            "dimension": self.dimension,
            "n": self.n,
            "mean": list(self.mean),
            "axes": [list(axis) for axis in self.axes],
            "sample": [list(row) for row in self.sample],
            "bandwidth": self.bandwidth,
            "projection": [list(point) for point in self.projection],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmbeddingProfile:
        cls.check_header(data)
        return cls(
            feature=str(data["feature"]),
            dimension=int(data["dimension"]),
            n=int(data["n"]),
            mean=tuple(float(v) for v in data["mean"]),
            axes=tuple(tuple(float(v) for v in axis) for axis in data["axes"]),
            sample=tuple(tuple(float(v) for v in row) for row in data["sample"]),
            bandwidth=float(data["bandwidth"]),
            projection=tuple((float(x), float(y)) for x, y in data["projection"]),
        )


def _plane(projected: FloatMatrix, rng: np.random.Generator) -> tuple[tuple[float, float], ...]:
    """Up to PROJECTION_POINTS points on the first two principal axes (one axis pads with 0)."""
    points = _subsample(projected, PROJECTION_POINTS, rng)
    plane = np.zeros((len(points), 2))
    plane[:, : min(2, points.shape[1])] = points[:, :2]
    return tuple((float(x), float(y)) for x, y in plane.tolist())


@dataclass(frozen=True, slots=True)
class EmbeddingDriftResult:
    """The outcome of :func:`embedding_drift` on one embedding (or text) feature.

    ``statistic`` and ``effect_size`` are the unbiased MMD²; ``projection`` is a sample of the
    window on the reference's first two principal axes, to plot over the profile's ``projection``.
    """

    feature: str
    test: str
    method: str
    statistic: float
    effect_size: float
    p_value: float
    threshold: float
    p_value_threshold: float
    drifted: bool
    n_ref: int
    n_cur: int
    projection: tuple[tuple[float, float], ...]


def _mmd2_under_permutations(
    kernel: npt.NDArray[np.float32], n_ref: int, permutations: int, rng: np.random.Generator
) -> tuple[float, FloatMatrix]:
    """Unbiased MMD² of the first ``n_ref`` rows against the rest, then under ``permutations``
    random relabellings of the pooled rows (one matrix product for all of them)."""
    total = len(kernel)
    n_cur = total - n_ref
    np.fill_diagonal(kernel, 0.0)
    labels = np.zeros((total, permutations + 1), dtype=kernel.dtype)
    labels[:n_ref, 0] = 1.0
    for column in range(1, permutations + 1):
        labels[rng.choice(total, n_ref, replace=False), column] = 1.0
    to_ref = kernel @ labels
    to_all = kernel.sum(axis=1, keepdims=True)
    within_ref = (labels * to_ref).sum(axis=0)
    between = ((1.0 - labels) * to_ref).sum(axis=0)
    within_cur = (to_all.sum() - 2 * between - within_ref).astype(np.float64)
    values = (
        within_ref / (n_ref * (n_ref - 1))
        + within_cur / (n_cur * (n_cur - 1))
        - 2 * between / (n_ref * n_cur)
    )
    return float(values[0]), values[1:]


def embedding_drift(
    profile: EmbeddingProfile,
    vectors: object,
    *,
    threshold: float = 0.008,
    p_value_threshold: float = 0.01,
    permutations: int = 200,
    seed: int = 0,
) -> EmbeddingDriftResult:
    """Compare a window's vectors with the reference profile; see the module docstring."""
    check_float("threshold", threshold, 0.0, 1.0, open_low=True)
    check_float("p_value_threshold", p_value_threshold, 0.0, 1.0, open_low=True)
    check_int("permutations", permutations, 20, 10_000)
    array = check_vectors(f"window of {profile.feature!r}", vectors, profile.dimension)
    if len(array) < 2:
        raise ValueError(f"window of {profile.feature!r} needs at least 2 vectors")
    rng = np.random.default_rng(seed)
    current = profile.project(_subsample(array, MAX_SAMPLE, rng))
    reference = np.asarray(profile.sample)
    pooled = np.vstack([reference, current])
    kernel = np.exp(-_squared_distances(pooled, pooled) / profile.bandwidth).astype(np.float32)
    statistic, null = _mmd2_under_permutations(kernel, len(reference), permutations, rng)
    p_value = (1 + int((null >= statistic).sum())) / (permutations + 1)
    drifted = statistic >= threshold and p_value < p_value_threshold
    return EmbeddingDriftResult(
        feature=profile.feature,
        test="mmd",
        method=METHOD,
        statistic=statistic,
        effect_size=statistic,
        p_value=p_value,
        threshold=threshold,
        p_value_threshold=p_value_threshold,
        drifted=bool(drifted),
        n_ref=profile.n,
        n_cur=len(array),
        projection=_plane(current, rng),
    )
