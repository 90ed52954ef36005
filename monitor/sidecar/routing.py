"""The traffic split: which variant serves a request, sticky per caller, from the control plane's
routing (kept as last seen while the control plane is away)."""

import random
from dataclasses import dataclass
from hashlib import blake2b
from itertools import accumulate
from typing import Any
from urllib.parse import quote

BUCKETS = 100
STABLE = "stable"
CANARY = "canary"
SHADOW = "shadow"
V2_MODELS = "/v2/models/"
# Canary first: raising its weight moves the buckets above the old canary bound from stable to
# canary, and nobody else.
_ORDER = {CANARY: 0, STABLE: 1}


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    model_version: str | None
    url: str
    weight: int
    # The name its server gives the model in OIP v2 paths; None: the caller's name.
    v2_model_name: str | None = None

    def upstream_path(self, path_qs: str) -> str:
        """The path (with query) to send this variant: in an OIP v2 path under `/v2/models/`,
        the model name the caller used becomes the variant's `v2_model_name`, so callers keep
        one public name while each variant's server names the model its own way."""
        if self.v2_model_name is None or not path_qs.startswith(V2_MODELS):
            return path_qs
        rest = path_qs[len(V2_MODELS) :]
        name_end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
        return V2_MODELS + quote(self.v2_model_name, safe="") + rest[name_end:]


def sticky_bucket(key: str) -> int:
    """A caller's bucket in [0, 100): the same on every sidecar and across restarts."""
    digest = blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


@dataclass(frozen=True, slots=True)
class Split:
    """One routing revision, ready to choose from."""

    revision: int | None
    serving: tuple[Variant, ...]
    bounds: tuple[int, ...]
    shadow: Variant | None

    @classmethod
    def default(cls, upstream: str) -> "Split":
        """Before any routing arrived: everything to the configured upstream, as stable."""
        return cls(None, (Variant(STABLE, None, upstream, BUCKETS),), (BUCKETS,), None)

    @classmethod
    def of(cls, routing: dict[str, Any], upstream: str) -> "Split":
        """From `GET /api/v1/models/{model}/routing`; a null endpoint means `upstream`."""
        variants = [
            Variant(
                v["name"],
                v.get("model_version"),
                v.get("endpoint") or upstream,
                v["weight"],
                v.get("v2_model_name"),
            )
            for v in routing["variants"]
        ]
        serving = sorted(
            (v for v in variants if v.name != SHADOW), key=lambda v: _ORDER.get(v.name, 2)
        )
        if not serving:
            raise ValueError("the routing has no serving variant")
        shadow = next((v for v in variants if v.name == SHADOW), None)
        bounds = tuple(accumulate(v.weight for v in serving))
        return cls(routing["revision"], tuple(serving), bounds, shadow)

    @property
    def stable(self) -> Variant:
        return next((v for v in self.serving if v.name == STABLE), self.serving[-1])

    def choose(self, sticky_key: str | None) -> Variant:
        bucket = random.randrange(BUCKETS) if sticky_key is None else sticky_bucket(sticky_key)
        for variant, bound in zip(self.serving, self.bounds, strict=True):
            if bucket < bound:
                return variant
        return self.stable  # weights summing to less than 100: the rest stays on stable
