"""Multivariate drift: a change in how the features go together, seen by PCA reconstruction error.

Correlations can break while every feature's own distribution stays the same, so no univariate
test sees it. Fit a :class:`MultivariateProfile` once on the reference: features are encoded
(numerical ones standardised, categorical and boolean ones one-hot over the reference's most
frequent categories), and PCA keeps the fewest components that explain ``variance`` of the
encoded reference. A row's reconstruction error is the Euclidean distance between its encoding
and its projection back from those components; rows that follow the reference's correlations
reconstruct well, rows that break them do not.
:func:`detectors.multivariate_window.multivariate_drift` compares a window's mean error with the
reference's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from detectors.chunks import chunk_slices
from detectors.columns import FloatArray, IntArray, category_label, read_categorical, read_numerical
from detectors.documents import StoredDocument
from detectors.profile import check_schema
from detectors.schema import FeatureKind, FeatureSpec
from detectors.validation import check_float, check_int

_MISSING = -1
_UNSEEN = -2


@dataclass(frozen=True, slots=True)
class EncodedFeature:
    """How one feature becomes columns of the encoding.

    Numerical: one column, ``(value - mean) / scale``, a missing or non-finite value becomes 0
    (the reference mean). Categorical and boolean: one column per kept reference category,
    ``indicator - frequency`` (centred but not scaled: scaling would give a rare category a huge
    weight); a missing value becomes all 0 (the reference frequencies), a category unseen in
    the reference (or beyond the kept ones) becomes ``-frequency`` in every column, i.e. no
    kept category, which the components cannot reconstruct.
    """

    spec: FeatureSpec
    mean: float = 0.0
    scale: float = 1.0
    categories: tuple[str, ...] = ()
    frequencies: tuple[float, ...] = ()

    @property
    def width(self) -> int:
        return len(self.categories) if self.spec.kind is not FeatureKind.NUMERICAL else 1

    @classmethod
    def fit(cls, spec: FeatureSpec, series: pd.Series, max_categories: int) -> EncodedFeature:
        if spec.kind is FeatureKind.NUMERICAL:
            values = read_numerical(series).values
            if values.size == 0:
                return cls(spec)
            std = float(values.std())
            return cls(spec, mean=float(values.mean()), scale=std if std > 0 else 1.0)
        column = read_categorical(series, spec.kind)
        by_count = sorted(zip(column.counts, column.labels, strict=True), key=lambda c: -c[0])
        kept = by_count[:max_categories]
        present = sum(column.counts)
        return cls(
            spec,
            categories=tuple(label for _, label in kept),
            frequencies=tuple(count / present for count, _ in kept),
        )

    def encode(self, series: pd.Series) -> tuple[FloatArray, int, int]:
        """The encoded columns (rows x width), the missing count and the unseen-category count."""
        if self.spec.kind is FeatureKind.NUMERICAL:
            raw = _numbers(series)
            usable = np.isfinite(raw)
            column = np.where(usable, (raw - self.mean) / self.scale, 0.0)
            return column[:, None], int(raw.size - usable.sum()), 0
        codes = self._category_codes(series)
        missing, unseen = codes == _MISSING, codes == _UNSEEN
        known = ~missing & ~unseen
        encoded = np.zeros((codes.size, self.width))
        encoded[np.flatnonzero(known), codes[known]] = 1.0
        encoded[~missing] -= np.asarray(self.frequencies)
        return encoded, int(missing.sum()), int(unseen.sum())

    def _category_codes(self, series: pd.Series) -> IntArray:
        """Index of each value's category; missing values and type errors are ``_MISSING``,
        categories not kept from the reference ``_UNSEEN``."""
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        index = {label: i for i, label in enumerate(self.categories)}
        labels = [category_label(u, self.spec.kind) for u in uniques]
        lookup = [_MISSING if label is None else index.get(label, _UNSEEN) for label in labels]
        return np.asarray([*lookup, _MISSING], dtype=np.int64)[codes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.spec.name,
            "kind": self.spec.kind.value,
            "nullable": self.spec.nullable,
            "mean": self.mean,
            "scale": self.scale,
            "categories": list(self.categories),
            "frequencies": list(self.frequencies),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EncodedFeature:
        spec = FeatureSpec(data["name"], FeatureKind(data["kind"]), data["nullable"])
        return cls(
            spec,
            data["mean"],
            data["scale"],
            tuple(data["categories"]),
            tuple(data["frequencies"]),
        )


@dataclass(frozen=True, slots=True)
class MultivariateProfile(StoredDocument):
    """Everything :func:`multivariate_drift` needs from the reference, fitted once and stored.

    ``components`` are the kept principal axes (rows, orthonormal) of the encoded reference.
    ``error_mean`` and ``error_std`` describe the per-row reconstruction error of the reference
    and ``chunk_means`` its mean per consecutive chunk; all three are measured out of sample
    (each chunk's rows projected on the components of the other chunks), so the reference is
    not flattered by having fitted its own axes.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2_000)
    >>> reference = pd.DataFrame({"a": x, "b": x + rng.normal(scale=0.3, size=2_000)})
    >>> schema = [FeatureSpec("a", "numerical"), FeatureSpec("b", "numerical")]
    >>> profile = MultivariateProfile.fit(reference, schema)
    >>> len(profile.components), MultivariateProfile.from_json(profile.to_json()) == profile
    (1, True)
    >>> from detectors.multivariate_window import multivariate_drift
    >>> swapped = reference.assign(b=-reference["b"])  # same marginals, correlation flipped
    >>> multivariate_drift(profile, swapped).drifted, multivariate_drift(profile, reference).drifted
    (True, False)
    """

    FORMAT: ClassVar[str] = "detectors.MultivariateProfile"
    VERSION: ClassVar[int] = 1

    features: tuple[EncodedFeature, ...]
    components: tuple[tuple[float, ...], ...]
    explained_variance: float
    n_ref: int
    error_mean: float
    error_std: float
    chunk_means: tuple[float, ...]
    missing_share: float = 0.0

    @classmethod
    def fit(
        cls,
        reference: pd.DataFrame,
        schema: Iterable[FeatureSpec],
        *,
        variance: float = 0.8,
        chunks: int = 10,
        max_categories: int = 20,
    ) -> MultivariateProfile:
        """Encode ``reference``'s schema columns and keep the fewest principal components that
        explain ``variance`` of the encoded total (never all of them: the error would be 0).

        ``chunks`` consecutive reference chunks give the variability of a window's mean error;
        ``max_categories`` most frequent categories of each categorical feature are encoded.
        """
        check_float("variance", variance, 0.0, 1.0, open_low=True)
        check_int("chunks", chunks, 2, 1_000)
        check_int("max_categories", max_categories, 1, 1_000)
        specs = check_schema(reference, schema)
        if len(reference) < 2 * chunks:
            raise ValueError(
                f"reference has {len(reference)} rows; at least {2 * chunks} are needed "
                f"for {chunks} chunks"
            )
        features = tuple(EncodedFeature.fit(s, reference[s.name], max_categories) for s in specs)
        encoded, missing, _ = _encode(features, reference)
        if encoded.shape[1] < 2:
            raise ValueError(
                "multivariate drift needs at least two encoded columns (numerical features or "
                f"categories); the schema gives {encoded.shape[1]}"
            )
        eigenvalues, axes = _principal_axes(encoded.T @ encoded)
        shares = np.cumsum(eigenvalues) / eigenvalues.sum() if eigenvalues.sum() > 0 else None
        kept = encoded.shape[1] - 1
        if shares is not None:
            kept = min(int(np.searchsorted(shares, variance - 1e-12)) + 1, kept)
        errors = _held_out_errors(encoded, chunks, kept)
        parts = chunk_slices(errors.size, chunks)
        return cls(
            features=features,
            components=tuple(tuple(axis) for axis in axes[:, :kept].T.tolist()),
            explained_variance=float(shares[kept - 1]) if shares is not None else 0.0,
            n_ref=len(reference),
            error_mean=float(errors.mean()),
            error_std=float(errors.std()),
            chunk_means=tuple(float(errors[part].mean()) for part in parts),
            missing_share=missing / (len(reference) * len(features)),
        )

    @property
    def schema(self) -> tuple[FeatureSpec, ...]:
        return tuple(f.spec for f in self.features)

    def threshold(self, n_cur: int, std_factor: float) -> float:
        """Reference mean error plus ``std_factor`` standard deviations of the difference between
        a window mean of ``n_cur`` rows and the reference mean:
        ``sqrt(between + error_std**2 * (1 / n_cur + 1 / n_ref))``, where ``between`` is the
        variance of the chunk means beyond what their own sampling explains (genuine
        variability over the reference's time span)."""
        chunk_size = self.n_ref / len(self.chunk_means)
        chunk_noise = self.error_std**2 / chunk_size
        between = max(float(np.var(self.chunk_means, ddof=1)) - chunk_noise, 0.0)
        sampling = self.error_std**2 * (1 / n_cur + 1 / self.n_ref)
        return self.error_mean + std_factor * math.sqrt(between + sampling)

    def errors(self, frame: pd.DataFrame) -> tuple[FloatArray, int, int]:
        """Per-row reconstruction errors of ``frame``, with its missing and unseen counts."""
        encoded, missing, unseen = _encode(self.features, frame)
        return _reconstruction_errors(encoded, np.asarray(self.components).T), missing, unseen

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.header(),
            "features": [f.to_dict() for f in self.features],
            "components": [list(c) for c in self.components],
            "explained_variance": self.explained_variance,
            "n_ref": self.n_ref,
            "error_mean": self.error_mean,
            "error_std": self.error_std,
            "chunk_means": list(self.chunk_means),
            "missing_share": self.missing_share,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MultivariateProfile:
        cls.check_header(data)
        return cls(
            features=tuple(EncodedFeature.from_dict(f) for f in data["features"]),
            components=tuple(tuple(c) for c in data["components"]),
            explained_variance=data["explained_variance"],
            n_ref=data["n_ref"],
            error_mean=data["error_mean"],
            error_std=data["error_std"],
            chunk_means=tuple(data["chunk_means"]),
            missing_share=data.get("missing_share", 0.0),
        )


def _numbers(series: pd.Series) -> FloatArray:
    if series.dtype == np.float64:
        return series.to_numpy()
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _encode(
    features: tuple[EncodedFeature, ...], frame: pd.DataFrame
) -> tuple[FloatArray, int, int]:
    blocks, missing, unseen = [], 0, 0
    for feature in features:
        block, n_missing, n_unseen = feature.encode(frame[feature.spec.name])
        blocks.append(block)
        missing += n_missing
        unseen += n_unseen
    return np.hstack(blocks), missing, unseen


def _principal_axes(scatter: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Eigenvalues (descending) and unit eigenvectors (columns) of a symmetric matrix, with a
    fixed sign per axis (largest entry positive) so a fit is reproducible."""
    eigenvalues, axes = np.linalg.eigh(scatter)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, axes = np.clip(eigenvalues[order], 0.0, None), axes[:, order]
    signs = np.sign(axes[np.argmax(np.abs(axes), axis=0), np.arange(axes.shape[1])])
    return eigenvalues, axes * np.where(signs == 0, 1.0, signs)


def _reconstruction_errors(encoded: FloatArray, axes: FloatArray) -> FloatArray:
    """Distance of each row from its projection on the orthonormal ``axes`` (columns): by
    Pythagoras, ``sqrt(|x|**2 - |x @ axes|**2)``, one product with the axes instead of two."""
    projected = encoded @ axes
    squared = np.einsum("ij,ij->i", encoded, encoded) - np.einsum("ij,ij->i", projected, projected)
    errors: FloatArray = np.sqrt(np.clip(squared, 0.0, None))
    return errors


def _held_out_errors(encoded: FloatArray, chunks: int, kept: int) -> FloatArray:
    """Each chunk's errors on the ``kept`` components fitted to the other chunks."""
    scatter = encoded.T @ encoded
    errors = np.empty(encoded.shape[0])
    for part in chunk_slices(encoded.shape[0], chunks):
        rows = encoded[part]
        axes = _principal_axes(scatter - rows.T @ rows)[1][:, :kept]
        errors[part] = _reconstruction_errors(rows, axes)
    return errors
