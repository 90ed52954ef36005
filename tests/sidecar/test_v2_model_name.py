"""OIP v2 paths name each variant's own model: callers use the public name, and the sidecar
sends a variant's server the `v2_model_name` its routing gives (none: the path unchanged)."""

import pytest

from monitor.sidecar.routing import Split, Variant

UPSTREAM = "http://model:8000"
CANARY_URL = "http://candidate:8000"


def _variant(v2_model_name: str | None) -> Variant:
    return Variant("canary", "2", CANARY_URL, 10, v2_model_name)


@pytest.mark.parametrize(
    ("path", "sent"),
    [
        ("/v2/models/churn/infer", "/v2/models/churn_v2/infer"),
        ("/v2/models/churn/versions/3/infer", "/v2/models/churn_v2/versions/3/infer"),
        ("/v2/models/churn", "/v2/models/churn_v2"),
        ("/v2/models/churn/ready", "/v2/models/churn_v2/ready"),
        ("/v2/models/churn?trace=1", "/v2/models/churn_v2?trace=1"),
        ("/v2/models/churn/infer?trace=1", "/v2/models/churn_v2/infer?trace=1"),
    ],
)
def test_the_model_name_in_a_v2_path_becomes_the_variants_v2_model_name(
    path: str, sent: str
) -> None:
    assert _variant("churn_v2").upstream_path(path) == sent


@pytest.mark.parametrize("path", ["/invocations", "/v2/health/ready", "/ping", "/v2"])
def test_paths_that_name_no_v2_model_are_sent_unchanged(path: str) -> None:
    assert _variant("churn_v2").upstream_path(path) == path


def test_without_a_v2_model_name_the_path_is_sent_unchanged() -> None:
    assert _variant(None).upstream_path("/v2/models/churn/infer") == "/v2/models/churn/infer"


def test_a_v2_model_name_is_sent_percent_encoded() -> None:
    path = _variant("churn v2/a").upstream_path("/v2/models/churn/infer")
    assert path == "/v2/models/churn%20v2%2Fa/infer"


def test_each_variant_of_the_routing_keeps_its_own_v2_model_name() -> None:
    routing = {
        "revision": 5,
        "variants": [
            {"name": "stable", "model_version": "1", "endpoint": None, "weight": 100,
             "v2_model_name": None},
            {"name": "shadow", "model_version": "2", "endpoint": CANARY_URL, "weight": 0,
             "v2_model_name": "churn_v2"},
        ],
    }  # fmt: skip
    split = Split.of(routing, UPSTREAM)
    assert split.stable.upstream_path("/v2/models/churn/infer") == "/v2/models/churn/infer"
    assert split.shadow is not None
    assert split.shadow.upstream_path("/v2/models/churn/infer") == "/v2/models/churn_v2/infer"


def test_a_routing_without_the_field_keeps_paths_unchanged() -> None:
    """A control plane from before `v2_model_name` existed."""
    routing = {
        "revision": 2,
        "variants": [{"name": "stable", "model_version": "1", "endpoint": None, "weight": 100}],
    }
    split = Split.of(routing, UPSTREAM)
    assert split.stable.v2_model_name is None
    assert split.stable.upstream_path("/v2/models/churn/infer") == "/v2/models/churn/infer"
