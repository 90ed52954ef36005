"""Benchmark: our drift pass against Evidently's DataDriftPreset on the same frames, plus SHAP
attribution drift for a 300-tree gradient-boosted model.

    .venv/bin/python -m benchmarks.detectors [--rows 1000000] [--skip-evidently] [--skip-shap]

Frames: ``--rows`` reference rows and as many current rows, 20 numerical (float64) and 4
categorical (pandas ``category``) features, some of them shifted. Our pass is
``detect_drift`` with the default config (KS and PSI on numericals, chi-squared and PSI on
categoricals, Benjamini-Hochberg, data quality) on a profile fitted beforehand, as the service
runs it; the fit is timed separately. Peak memory is tracemalloc's peak of Python and numpy
allocations during the pass (a second, traced run, so tracing does not slow the timed one),
compared with ``memory_usage(deep=True)`` of the two frames.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

if not __package__:  # run as a file: its folder would shadow the detectors package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from detectors import FeatureKind, FeatureSpec, ReferenceProfile, detect_drift
from detectors.attribution import AttributionBaseline, ExplainerSettings, attribution_drift

NUMERICAL = 20
CATEGORICAL = 4
CATEGORIES = np.array(["north", "south", "east", "west", "other"])


def make_frame(rows: int, rng: np.random.Generator, shifted: bool) -> pd.DataFrame:
    columns: dict[str, Any] = {}
    for i in range(NUMERICAL):
        shift = 0.1 * (i % 5) if shifted else 0.0
        if i % 3 == 0:
            columns[f"num_{i}"] = rng.lognormal(shift, 1.0, rows)
        else:
            columns[f"num_{i}"] = rng.normal(shift, 1.0 + i / 10, rows)
    shares = np.array([0.4, 0.25, 0.15, 0.15, 0.05])
    for i in range(CATEGORICAL):
        p = np.roll(shares, 1) if shifted and i == 0 else shares
        codes = rng.choice(len(CATEGORIES), size=rows, p=p)
        columns[f"cat_{i}"] = pd.Categorical.from_codes(codes, categories=CATEGORIES)
    return pd.DataFrame(columns)


def schema() -> list[FeatureSpec]:
    return [FeatureSpec(f"num_{i}", FeatureKind.NUMERICAL) for i in range(NUMERICAL)] + [
        FeatureSpec(f"cat_{i}", FeatureKind.CATEGORICAL) for i in range(CATEGORICAL)
    ]


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def traced_peak(function: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run_evidently(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(
        numerical_columns=[f"num_{i}" for i in range(NUMERICAL)],
        categorical_columns=[f"cat_{i}" for i in range(CATEGORICAL)],
    )
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    snapshot.dict()  # make sure every metric was computed


def bench_drift(rows: int, skip_evidently: bool) -> None:
    rng = np.random.default_rng(0)
    reference, current = make_frame(rows, rng, False), make_frame(rows, rng, True)
    frames_mb = (
        reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum()
    ) / 2**20
    fit_s, profile = timed(lambda: ReferenceProfile.fit(reference, schema()))
    detect_drift(profile, current.iloc[:1000])  # warm-up: imports and scipy first calls
    ours_s, report = timed(lambda: detect_drift(profile, current))
    peak_mb = traced_peak(lambda: detect_drift(profile, current)) / 2**20
    fit_peak_mb = traced_peak(lambda: ReferenceProfile.fit(reference, schema())) / 2**20
    print(
        f"rows: {rows:,} reference + {rows:,} current, {NUMERICAL} numerical + "
        f"{CATEGORICAL} categorical features; frames {frames_mb:,.0f} MiB together"
    )
    print(
        f"profile fit (once per reference): {fit_s:.2f} s, peak {fit_peak_mb:,.0f} MiB; "
        f"profile JSON {len(profile.to_json()) / 2**20:.1f} MiB"
    )
    print(
        f"our drift pass: {ours_s:.2f} s, {len(report.drifted_features)} features drifted, "
        f"peak memory {peak_mb:,.0f} MiB = {peak_mb / frames_mb:.2f}x the two frames "
        "(tracemalloc)"
    )
    if skip_evidently:
        return
    evidently_s, _ = timed(lambda: run_evidently(reference, current))
    print(f"evidently DataDriftPreset: {evidently_s:.2f} s")
    print(
        f"ratio evidently / ours: {evidently_s / ours_s:.1f}x (pass only), "
        f"{evidently_s / (ours_s + fit_s):.1f}x (fit + pass)"
    )


def bench_attribution(window_rows: int) -> None:
    from sklearn.ensemble import GradientBoostingClassifier

    rng = np.random.default_rng(1)
    features = [f"f{i}" for i in range(NUMERICAL + CATEGORICAL)]

    def sample(rows: int, scale: float) -> pd.DataFrame:
        frame = pd.DataFrame(rng.normal(size=(rows, len(features))), columns=features)
        frame["f0"] *= scale
        return frame

    train = sample(10_000, 1.0)
    logits = train["f0"] + 0.5 * train["f1"] - 0.25 * train["f2"] + 0.1 * train["f3"]
    labels = (logits + rng.normal(size=len(train)) > 0).astype(int)
    train_s, model = timed(
        lambda: GradientBoostingClassifier(n_estimators=300, random_state=0).fit(train, labels)
    )
    settings = ExplainerSettings(sample_size=window_rows, seed=0)
    baseline_s, baseline = timed(
        lambda: AttributionBaseline.fit(model, sample(20_000, 1.0), settings)
    )
    window = sample(window_rows, 0.2)  # the top feature barely varies any more
    drift_s, result = timed(lambda: attribution_drift(baseline, model, window))
    print(
        f"SHAP: GradientBoostingClassifier, 300 trees, {len(features)} features "
        f"(training {train_s:.1f} s, baseline {baseline_s:.2f} s)"
    )
    print(
        f"SHAP attribution drift on a {window_rows:,}-row window sample: {drift_s:.2f} s "
        f"({result.explainer} explainer, NDCG {result.ndcg:.3f}, drifted={result.drifted})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--shap-rows", type=int, default=5_000)
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--skip-shap", action="store_true")
    args = parser.parse_args()
    bench_drift(args.rows, args.skip_evidently)
    if not args.skip_shap:
        bench_attribution(args.shap_rows)


if __name__ == "__main__":
    main()
