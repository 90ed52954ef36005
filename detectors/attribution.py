"""SHAP attribution drift: has the model's global feature-importance ranking moved?

The baseline is the mean |SHAP| per feature on a reference sample; a window sample is explained
the same way and its ranking compared with the baseline by NDCG. ``shap`` is imported only when an
explanation is computed.

NDCG here: the relevance of a feature is its baseline importance. Rank the features by current
importance (ties by baseline rank), DCG = sum(relevance / log2(position + 1)) over the first
``top_k`` positions; NDCG = DCG / DCG of the baseline ranking. It is 1 when the ranking is
unchanged and falls most when important features drop down the list; swaps among unimportant
features barely move it. Its threshold is learned from the reference sample's own rows
(:func:`detectors.importance.ndcg_threshold`); 0.9 is only the fallback for baselines stored
without them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from detectors.importance import change_intervals, ndcg, ndcg_threshold, rank_order, ranks
from detectors.validation import check_float, check_int

PredictFunction = Callable[[pd.DataFrame], Any]
TREE = "tree"
PERMUTATION = "permutation"
FALLBACK_THRESHOLD = 0.9


@dataclass(frozen=True, slots=True)
class ExplainerSettings:
    """The fixed budget of an explanation: rows explained, background rows and model
    evaluations per row for the model-agnostic explainer, and the seed for every draw."""

    sample_size: int = 1_000
    background_size: int = 50
    max_evals: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        check_int("sample_size", self.sample_size, 1, 1_000_000)
        check_int("background_size", self.background_size, 1, 10_000)
        if self.max_evals is not None:
            check_int("max_evals", self.max_evals, 3, 1_000_000)
        check_int("seed", self.seed, 0, 2**32 - 1)


@dataclass(frozen=True, slots=True)
class AttributionBaseline:
    """Mean |SHAP| per feature on a reference sample, plus what is needed to explain a window
    the same way (the background rows and the reference dtypes for model-agnostic explainers).
    ``magnitudes`` keeps the per-row |SHAP| of the sample (averaged over outputs), from which a
    drift run learns its NDCG threshold and the intervals of each feature's change; a baseline
    stored without them falls back to the fixed threshold 0.9 and no intervals.

    Store :meth:`to_json` next to the reference profile.
    """

    features: tuple[str, ...]
    importance: tuple[float, ...]
    explainer: str
    n_samples: int
    settings: ExplainerSettings
    background: tuple[tuple[Any, ...], ...]
    dtypes: tuple[str, ...]
    magnitudes: tuple[tuple[float, ...], ...] = ()

    @property
    def ranking(self) -> tuple[str, ...]:
        return tuple(self.features[i] for i in rank_order(self.importance))

    @classmethod
    def fit(
        cls,
        model: object,
        reference: pd.DataFrame,
        settings: ExplainerSettings | None = None,
    ) -> AttributionBaseline:
        """Explain a seeded sample of ``reference`` with ``model``: a tree model (sklearn,
        LightGBM, XGBoost), anything with ``predict_proba``/``predict``, or a callable taking a
        DataFrame."""
        settings = settings or ExplainerSettings()
        if reference.empty:
            raise ValueError("reference must have at least one row and one feature column")
        rng = np.random.default_rng(settings.seed)
        background = _sample(reference, settings.background_size, rng)
        sample = _sample(reference, settings.sample_size, rng)
        magnitudes, explainer, _ = _magnitudes(model, sample, background, settings)
        return cls(
            features=tuple(str(c) for c in reference.columns),
            importance=tuple(magnitudes.mean(axis=0).tolist()),
            explainer=explainer,
            n_samples=len(sample),
            settings=settings,
            background=_rows(background),
            dtypes=tuple(str(t) for t in reference.dtypes),
            magnitudes=tuple(tuple(row) for row in magnitudes.tolist()),
        )

    def background_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(list(self.background), columns=list(self.features))
        return frame.astype(dict(zip(self.features, self.dtypes, strict=True)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "importance": list(self.importance),
            "explainer": self.explainer,
            "n_samples": self.n_samples,
            "settings": asdict(self.settings),
            "background": [list(row) for row in self.background],
            "dtypes": list(self.dtypes),
            "magnitudes": [list(row) for row in self.magnitudes],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttributionBaseline:
        return cls(
            features=tuple(data["features"]),
            importance=tuple(data["importance"]),
            explainer=data["explainer"],
            n_samples=data["n_samples"],
            settings=ExplainerSettings(**data["settings"]),
            background=tuple(tuple(row) for row in data["background"]),
            dtypes=tuple(data["dtypes"]),
            magnitudes=tuple(tuple(row) for row in data.get("magnitudes", ())),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> AttributionBaseline:
        return cls.from_dict(json.loads(text))


@dataclass(frozen=True, slots=True)
class AttributionShift:
    """How one feature's global importance moved; ranks start at 1. ``shift_low`` and
    ``shift_high`` bound ``shift`` (95% percentile bootstrap over both samples' rows; NaN for a
    baseline stored without its per-row magnitudes), so a change in magnitude shows even when
    the ranking holds."""

    feature: str
    baseline_importance: float
    current_importance: float
    shift: float
    baseline_rank: int
    current_rank: int
    shift_low: float = math.nan
    shift_high: float = math.nan


@dataclass(frozen=True, slots=True)
class AttributionDriftResult:
    """NDCG of the window's importance ranking against the baseline; ``drifted`` when it falls
    below ``threshold``. ``threshold_method`` says where the threshold came from:
    ``reference_subsamples`` (learned), ``fallback`` (0.9: the baseline has too few stored rows)
    or ``given``. ``shifts`` lists every feature, by baseline rank."""

    ndcg: float
    threshold: float
    drifted: bool
    explainer: str
    n_ref: int
    n_cur: int
    shifts: tuple[AttributionShift, ...]
    message: str | None = None
    threshold_method: str = "given"


def attribution_drift(
    baseline: AttributionBaseline,
    model: object,
    current: pd.DataFrame,
    *,
    threshold: float | None = None,
    top_k: int | None = None,
) -> AttributionDriftResult:
    """Explain a seeded sample of ``current`` (the baseline's budget and seed) and compare.

    ``threshold`` None (the default) learns it from the baseline's rows for this window's
    sample size (:func:`detectors.importance.ndcg_threshold`), else uses the given value.
    """
    if threshold is not None:
        check_float("threshold", threshold, 0.0, 1.0, open_low=True)
    if top_k is not None:
        check_int("top_k", top_k, 1, len(baseline.features))
    missing = [name for name in baseline.features if name not in current.columns]
    if missing:
        raise ValueError(f"current sample has no column for feature(s): {', '.join(missing)}")
    if current.empty:
        return AttributionDriftResult(
            math.nan,
            FALLBACK_THRESHOLD if threshold is None else threshold,
            False,
            baseline.explainer,
            baseline.n_samples,
            0,
            (),
            "window sample is empty; nothing to compare",
        )
    rng = np.random.default_rng(baseline.settings.seed + 1)
    sample = _sample(current[list(baseline.features)], baseline.settings.sample_size, rng)
    magnitudes, explainer, note = _magnitudes(
        model, sample, baseline.background_frame(), baseline.settings
    )
    importance = magnitudes.mean(axis=0)
    score = ndcg(baseline.importance, importance, top_k=top_k)
    reference = np.asarray(baseline.magnitudes, dtype=np.float64)
    learned = None
    if threshold is None and reference.size:
        learned = ndcg_threshold(reference, len(sample), seed=baseline.settings.seed, top_k=top_k)
    method = "given" if threshold is not None else "fallback"
    if learned is not None:
        threshold, method = learned, "reference_subsamples"
    threshold = FALLBACK_THRESHOLD if threshold is None else threshold
    low = high = np.full(len(baseline.features), math.nan)
    if reference.size:
        low, high = change_intervals(reference, magnitudes, seed=baseline.settings.seed)
    current_rank = ranks(importance)
    baseline_rank = ranks(baseline.importance)
    shifts = [
        AttributionShift(
            name,
            base,
            float(importance[i]),
            float(importance[i]) - base,
            baseline_rank[i],
            current_rank[i],
            float(low[i]),
            float(high[i]),
        )
        for i, (name, base) in enumerate(zip(baseline.features, baseline.importance, strict=True))
    ]
    shifts.sort(key=lambda s: s.baseline_rank)
    notes = [note] if note else []
    if method == "fallback":
        notes.append(f"NDCG threshold {FALLBACK_THRESHOLD} (baseline without enough stored rows)")
    if explainer != baseline.explainer:
        notes.append(f"baseline explained with {baseline.explainer}, window with {explainer}")
    if sum(baseline.importance) == 0:
        notes.append("baseline importances are all zero; NDCG is 1 by definition")
    return AttributionDriftResult(
        ndcg=score,
        threshold=threshold,
        drifted=score < threshold,
        threshold_method=method,
        explainer=explainer,
        n_ref=baseline.n_samples,
        n_cur=len(sample),
        shifts=tuple(shifts),
        message="; ".join(notes) if notes else None,
    )


def _rows(frame: pd.DataFrame) -> tuple[tuple[Any, ...], ...]:
    """Rows as plain Python values (None for missing), so they serialise to JSON exactly."""
    rows = frame.astype(object).to_numpy().tolist()
    return tuple(tuple(None if pd.isna(value) else value for value in row) for row in rows)


def _magnitudes(
    model: object, sample: pd.DataFrame, background: pd.DataFrame, settings: ExplainerSettings
) -> tuple[npt.NDArray[np.float64], str, str | None]:
    """|SHAP| per row and feature (averaged over classes or outputs, if several)."""
    values, explainer, note = _shap_values(model, sample, background, settings)
    magnitude = np.abs(values)
    if magnitude.ndim == 3:
        magnitude = magnitude.mean(axis=2)
    return magnitude, explainer, note


def _sample(frame: pd.DataFrame, size: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= size:
        return frame
    rows = np.sort(rng.choice(len(frame), size=size, replace=False))
    return frame.iloc[rows]


def _shap_values(
    model: object, sample: pd.DataFrame, background: pd.DataFrame, settings: ExplainerSettings
) -> tuple[npt.NDArray[np.float64], str, str | None]:
    """SHAP values with TreeExplainer when the model is a supported tree model, else with the
    seeded permutation explainer over the baseline's background rows."""
    import shap  # heavy; only needed when explaining

    note = None
    if not callable(model) or hasattr(model, "predict"):
        try:
            explainer = shap.TreeExplainer(model)
        except ValueError as error:  # shap's InvalidModelError: not a supported tree model
            note = f"TreeExplainer does not support this model ({error}); used permutation"
        else:
            return np.asarray(explainer.shap_values(sample), dtype=np.float64), TREE, note
    predict = _predict_function(model)
    features = list(background.columns)
    dtypes = background.dtypes.to_dict()
    # shap's maskers need numbers: text columns travel as codes and are decoded for the model.
    categories = {
        name: pd.Index(pd.concat([background[name], sample[name]]).dropna().unique())
        for name in features
        if not pd.api.types.is_numeric_dtype(background[name])
    }

    def encode(frame: pd.DataFrame) -> pd.DataFrame:
        coded = frame.copy()
        for name, known in categories.items():
            coded[name] = np.asarray(known.get_indexer(frame[name]), dtype=np.float64)
        return coded.astype(np.float64)

    def on_frame(rows: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        frame = pd.DataFrame(rows, columns=features)
        for name, known in categories.items():
            codes = frame[name].to_numpy(dtype=np.int64)
            decoded = known.to_numpy().astype(object).take(np.clip(codes, 0, None))
            decoded[codes < 0] = None  # a value the masker had as missing
            frame[name] = decoded
        return np.asarray(predict(frame.astype(dtypes)), dtype=np.float64)

    masker = shap.maskers.Independent(encode(background), max_samples=len(background))
    explainer = shap.explainers.Permutation(on_frame, masker, seed=settings.seed)
    max_evals = settings.max_evals or 2 * len(features) + 1
    explanation = explainer(encode(sample), max_evals=max_evals, silent=True)
    return np.asarray(explanation.values, dtype=np.float64), PERMUTATION, note


def _predict_function(model: object) -> PredictFunction:
    for method in ("predict_proba", "predict"):
        function = getattr(model, method, None)
        if callable(function):
            return function  # type: ignore[no-any-return]
    if callable(model):
        return model  # type: ignore[return-value]
    raise ValueError(
        f"model must be a tree model, have predict_proba/predict, or be callable; got {model!r}"
    )
