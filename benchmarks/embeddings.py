"""Embedding drift against Evidently's, on real MiniLM sentence embeddings, in one run.

    python -m benchmarks.embeddings [--size 10000] [--trials 100]

Encodes support tickets (benchmarks/texts.py) with all-MiniLM-L6-v2 (the `embeddings` extra),
then prints, for windows of 200 texts: how often each method flags an unchanged window, a
paraphrase-only window and a window where a third of the tickets changed topic; and the time of
one ``size`` x ``size`` comparison. The peers are Evidently's embedding-drift methods called
directly: ``mmd`` (its default threshold) and ``model`` (a domain classifier, Evidently's
default method). Evidently's ``mmd`` builds the full (2 x size)² kernel, so a 10,000-row run
needs about 3 GB. Its last line reads
``embeddings: ours A s, evidently mmd B s (ratio R), paraphrase false alarms ours P%``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from benchmarks.texts import SHIFTED_TOPICS, encode, tickets
from detectors.embeddings import EmbeddingProfile, embedding_drift

WINDOW = 200
Verdict = Callable[[np.ndarray, np.ndarray], bool]


def _evidently(method: str) -> Verdict:
    from evidently.legacy.metrics.data_drift.embedding_drift_methods import mmd, model

    drift_method = mmd() if method == "mmd" else model()

    def verdict(reference: np.ndarray, window: np.ndarray) -> bool:
        _, drifted, _ = drift_method(pd.DataFrame(window), pd.DataFrame(reference))
        return bool(drifted)

    return verdict


def _flag_rates(
    verdict: Verdict, reference: np.ndarray, windows: dict[str, np.ndarray], trials: int
) -> dict[str, float]:
    rng = np.random.default_rng(5)
    rates = {}
    for name, vectors in windows.items():
        flagged = sum(
            verdict(reference, vectors[rng.choice(len(vectors), WINDOW, replace=False)])
            for _ in range(trials)
        )
        rates[name] = flagged / trials
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    reference = encode(tickets(rng, args.size))
    windows = {
        "unchanged": encode(tickets(rng, 2_000)),
        "paraphrased": encode(tickets(rng, 2_000, paraphrased=True)),
        "topic shift": encode(tickets(rng, 2_000, SHIFTED_TOPICS)),
    }
    large = encode(tickets(rng, args.size))
    print(f"encoded {args.size * 2 + 6_000} texts in {time.perf_counter() - started:.0f} s")

    profile = EmbeddingProfile.fit("ticket", reference)
    seeds = iter(range(10**9))

    def ours(_: np.ndarray, window: np.ndarray) -> bool:
        return embedding_drift(profile, window, seed=next(seeds)).drifted

    methods: dict[str, Verdict] = {
        "ours (mmd_pca)": ours,
        "evidently mmd": _evidently("mmd"),
        "evidently model": _evidently("model"),
    }
    print(f"flag rate over {args.trials} windows of {WINDOW} texts:")
    print(f"{'method':<18}" + "".join(f"{name:>14}" for name in windows))
    ours_rates: dict[str, float] = {}
    for label, verdict in methods.items():
        trials = args.trials if label.startswith("ours") else max(args.trials // 5, 5)
        rates = _flag_rates(verdict, reference, windows, trials)
        ours_rates = rates if label.startswith("ours") else ours_rates
        print(f"{label:<18}" + "".join(f"{rate:>13.0%} " for rate in rates.values()))

    timings = {}
    for label in ("ours (mmd_pca)", "evidently mmd"):
        started = time.perf_counter()
        if label.startswith("ours"):
            embedding_drift(EmbeddingProfile.fit("ticket", reference), large)
        else:
            methods[label](reference, large)
        timings[label] = time.perf_counter() - started
        print(f"{label}: {args.size:,} vs {args.size:,} vectors in {timings[label]:.2f} s")
    ours_s, peer_s = timings["ours (mmd_pca)"], timings["evidently mmd"]
    print(
        f"embeddings: ours {ours_s:.2f} s, evidently mmd {peer_s:.2f} s "
        f"(ratio {peer_s / ours_s:.0f}), paraphrase false alarms ours "
        f"{ours_rates['paraphrased']:.0%}"
    )


if __name__ == "__main__":
    main()
