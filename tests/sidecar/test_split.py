"""The sticky split: callers spread by weight, each caller pinned to one variant, and a higher
canary weight moves only stable callers."""

from collections import Counter
from typing import Any

from monitor.sidecar.routing import Split

UPSTREAM = "http://model:8080"
CANDIDATE = "http://candidate:8080"
KEYS = [f"user-{i}" for i in range(5000)]


def _routing(canary: int, *, shadow: bool = False) -> dict[str, Any]:
    variants = [
        {"name": "stable", "model_version": "1", "endpoint": None, "weight": 100 - canary},
        {"name": "canary", "model_version": "2", "endpoint": CANDIDATE, "weight": canary},
    ]
    if shadow:
        variants.append(
            {"name": "shadow", "model_version": "3", "endpoint": "http://shadow:8080", "weight": 0}
        )
    return {"revision": 4, "variants": variants}


def _assignments(split: Split) -> dict[str, str]:
    return {key: split.choose(key).name for key in KEYS}


def test_five_thousand_callers_split_within_two_points_of_the_weights() -> None:
    for canary in (5, 25, 50):
        shares = Counter(_assignments(Split.of(_routing(canary), UPSTREAM)).values())
        assert abs(100 * shares["canary"] / len(KEYS) - canary) <= 2, (canary, shares)


def test_raising_the_canary_weight_moves_only_stable_callers() -> None:
    before = _assignments(Split.of(_routing(5), UPSTREAM))
    after = _assignments(Split.of(_routing(25), UPSTREAM))
    moved = {key for key in KEYS if before[key] != after[key]}
    assert moved
    assert all((before[k], after[k]) == ("stable", "canary") for k in moved)


def test_a_caller_stays_on_one_variant() -> None:
    split = Split.of(_routing(50), UPSTREAM)
    assert {split.choose("user-7").name for _ in range(50)} == {split.choose("user-7").name}


def test_requests_without_a_sticky_key_are_split_at_random_by_weight() -> None:
    split = Split.of(_routing(25), UPSTREAM)
    shares = Counter(split.choose(None).name for _ in range(5000))
    assert abs(100 * shares["canary"] / 5000 - 25) <= 3


def test_null_endpoint_means_the_configured_upstream() -> None:
    split = Split.of(_routing(10), UPSTREAM)
    assert {v.name: v.url for v in split.serving} == {
        "canary": "http://candidate:8080",
        "stable": UPSTREAM,
    }


def test_shadow_gets_no_callers_of_its_own() -> None:
    split = Split.of(_routing(10, shadow=True), UPSTREAM)
    assert "shadow" not in set(_assignments(split).values())
    assert split.shadow is not None and split.shadow.url == "http://shadow:8080"


def test_without_routing_everything_goes_to_the_upstream_as_stable() -> None:
    split = Split.default(UPSTREAM)
    chosen = {(v.name, v.url, v.model_version) for v in map(split.choose, KEYS[:100])}
    assert chosen == {("stable", UPSTREAM, None)}
    assert split.revision is None
