"""KServe InferenceService manifests against the documented v1beta1 shape (`kserve_schema`) and
the documentation's own examples, where no cluster runs."""

from typing import Any

import jsonschema
import pytest
import yaml

from monitor.deployers.kserve import (
    ModelFormat,
    canary_traffic_percent,
    inference_service,
    to_yaml,
)
from monitor.entities.endpoint import Accelerator
from tests.engines.kserve_schema import INFERENCE_SERVICE

# From "Deploy MLflow models with InferenceService",
# https://kserve.github.io/website/0.12/modelserving/v1beta1/mlflow/v2/
DOCUMENTED_MLFLOW_V2: dict[str, Any] = {
    "apiVersion": "serving.kserve.io/v1beta1",
    "kind": "InferenceService",
    "metadata": {"name": "mlflow-v2-wine-classifier"},
    "spec": {
        "predictor": {
            "model": {
                "modelFormat": {"name": "mlflow"},
                "protocolVersion": "v2",
                "storageUri": "gs://kfserving-examples/models/mlflow/wine",
            }
        }
    },
}
# From the canary rollout guide (step 2: 10% to the new revision),
# https://kserve.github.io/website/docs/model-serving/predictive-inference/rollout-strategies/canary
DOCUMENTED_CANARY: dict[str, Any] = {
    "apiVersion": "serving.kserve.io/v1beta1",
    "kind": "InferenceService",
    "metadata": {"name": "sklearn-iris"},
    "spec": {
        "predictor": {
            "canaryTrafficPercent": 10,
            "model": {
                "modelFormat": {"name": "sklearn"},
                "storageUri": "gs://kfserving-examples/models/sklearn/1.0/model-2",
            },
        }
    },
}


def check(manifest: dict[str, Any]) -> None:
    jsonschema.validate(manifest, INFERENCE_SERVICE)


def contains(whole: Any, part: Any) -> bool:
    """Every field of `part` is in `whole` with the same value (`whole` may have more)."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(
            key in whole and contains(whole[key], value) for key, value in part.items()
        )
    return bool(whole == part)


@pytest.mark.parametrize("documented", [DOCUMENTED_MLFLOW_V2, DOCUMENTED_CANARY])
def test_the_schema_accepts_the_documentations_examples(documented: dict[str, Any]) -> None:
    check(documented)


def test_an_mlflow_manifest_holds_the_documented_mlflow_v2_example() -> None:
    manifest = inference_service(
        name="mlflow-v2-wine-classifier",
        model_format=ModelFormat.MLFLOW,
        storage_uri="gs://kfserving-examples/models/mlflow/wine",
    )

    check(manifest)
    assert contains(manifest, DOCUMENTED_MLFLOW_V2)
    assert "nvidia.com/gpu" not in manifest["spec"]["predictor"]["model"]["resources"]["limits"]


def test_a_gpu_manifest_limits_nvidia_gpus() -> None:
    manifest = inference_service(
        name="churn",
        namespace="models",
        model_format=ModelFormat.TRITON,
        storage_uri="s3://models/churn/triton-repository",
        accelerator=Accelerator.GPU,
        gpus=2,
        runtime="kserve-tritonserver",
    )

    check(manifest)
    model = manifest["spec"]["predictor"]["model"]
    assert model["modelFormat"] == {"name": "triton"}
    assert model["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert "nvidia.com/gpu" not in model["resources"]["requests"]


def test_a_canary_step_sets_canary_traffic_percent_like_the_documented_rollout() -> None:
    manifest = inference_service(
        name="sklearn-iris",
        model_format=ModelFormat.SKLEARN,
        storage_uri="gs://kfserving-examples/models/sklearn/1.0/model-2",
        canary_traffic_percent=10,
    )

    check(manifest)
    assert contains(manifest, DOCUMENTED_CANARY)


@pytest.mark.parametrize(
    ("state", "weight", "percent"),
    [
        ("shadowing", 0, 0),
        ("progressing", 25, 25),
        ("paused", 50, 50),
        ("rolled_back", 0, 0),
        ("aborted", 0, 0),
        ("promoted", 100, None),
    ],
)
def test_canary_traffic_percent_follows_the_rollouts_state_and_weight(
    state: str, weight: int, percent: int | None
) -> None:
    assert canary_traffic_percent(state, weight) == percent


def test_a_promoted_rollouts_manifest_has_no_canary_split() -> None:
    manifest = inference_service(
        name="churn",
        model_format=ModelFormat.MLFLOW,
        storage_uri="s3://models/churn/4",
        canary_traffic_percent=canary_traffic_percent("promoted", 100),
    )

    check(manifest)
    assert "canaryTrafficPercent" not in manifest["spec"]["predictor"]


def test_an_unknown_rollout_state_is_refused_naming_the_states() -> None:
    with pytest.raises(ValueError, match="state: 'done' is not a rollout state; use one of"):
        canary_traffic_percent("done", 100)


def test_the_yaml_reads_back_as_the_manifest_in_written_order() -> None:
    manifest = inference_service(
        name="churn", model_format=ModelFormat.MLFLOW, storage_uri="s3://models/churn/3"
    )

    text = to_yaml(manifest)

    assert yaml.safe_load(text) == manifest
    assert text.startswith("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\n")


def test_the_schema_refuses_a_misspelled_field() -> None:
    manifest = inference_service(
        name="churn", model_format=ModelFormat.MLFLOW, storage_uri="s3://models/churn/3"
    )
    manifest["spec"]["predictor"]["canaryTraficPercent"] = 10

    with pytest.raises(jsonschema.ValidationError, match="canaryTraficPercent"):
        check(manifest)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": "Churn_Model"}, "name: 'Churn_Model' is not a valid InferenceService name"),
        ({"storage_uri": "ftp://models/churn"}, "storage_uri: 'ftp://models/churn' has a scheme"),
        ({"canary_traffic_percent": 120}, "canary_traffic_percent: 120 must be"),
        ({"accelerator": Accelerator.GPU, "gpus": 0}, "gpus must be at least 1"),
    ],
)
def test_bad_arguments_are_refused_naming_the_field(
    arguments: dict[str, Any], message: str
) -> None:
    given = {"name": "churn", "model_format": ModelFormat.MLFLOW, "storage_uri": "s3://m/1"}

    with pytest.raises(ValueError, match=message):
        inference_service(**(given | arguments))
