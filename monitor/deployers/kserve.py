"""KServe InferenceService manifests (`serving.kserve.io/v1beta1`) for a model version, as plain
dicts and YAML for `kubectl apply`: predictor model format, storage, Open Inference Protocol v2,
CPU or GPU resources, and `canaryTrafficPercent` when KServe itself splits a rollout's traffic.

Fields as documented in the v1beta1 control-plane API,
https://kserve.github.io/website/0.10/reference/api/ (InferenceServiceSpec, PredictorSpec,
ModelSpec, PredictorExtensionSpec, ComponentExtensionSpec), and the canary rollout guide,
https://kserve.github.io/website/docs/model-serving/predictive-inference/rollout-strategies/canary
"""

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import yaml

from monitor.entities.endpoint import Accelerator
from monitor.entities.rollout import RolloutState

API_VERSION = "serving.kserve.io/v1beta1"
KIND = "InferenceService"
# KServe's admission webhook refuses other names (IsvcNameFmt); 63 keeps the DNS label of the
# service's host name valid.
_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_NAME_MAX = 63
# Storage schemes KServe's storage initializer accepts (SupportedStorageURIPrefixList).
STORAGE_SCHEMES = ("gs://", "s3://", "pvc://", "file://", "https://", "http://")


class ModelFormat(StrEnum):
    """`predictor.model.modelFormat.name`: which serving runtime KServe picks."""

    MLFLOW = "mlflow"  # MLServer runtime
    TRITON = "triton"  # Triton runtime: storageUri is a Triton model repository
    SKLEARN = "sklearn"
    XGBOOST = "xgboost"
    LIGHTGBM = "lightgbm"
    ONNX = "onnx"
    PYTORCH = "pytorch"
    TENSORFLOW = "tensorflow"


def inference_service(
    *,
    name: str,
    model_format: ModelFormat,
    storage_uri: str,
    namespace: str | None = None,
    accelerator: Accelerator = Accelerator.CPU,
    gpus: int = 1,
    cpu: str = "1",
    memory: str = "2Gi",
    runtime: str | None = None,
    min_replicas: int = 1,
    max_replicas: int | None = None,
    canary_traffic_percent: int | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An InferenceService serving the model at `storage_uri` over the v2 protocol.

    Applying it to an existing service with a new `storage_uri` and `canary_traffic_percent`
    starts a canary: KServe sends that share to the new revision and the rest to the last one
    rolled out at 100%.
    """
    _check_name(name)
    if not storage_uri.startswith(STORAGE_SCHEMES):
        raise ValueError(
            f"storage_uri: {storage_uri!r} has a scheme KServe cannot download from; "
            f"use one of {', '.join(STORAGE_SCHEMES)}"
        )
    if gpus < 1:
        raise ValueError(f"gpus must be at least 1, got {gpus}")
    if min_replicas < 0 or (max_replicas is not None and max_replicas < max(min_replicas, 1)):
        raise ValueError(
            f"replicas: min_replicas {min_replicas} must be >= 0 and max_replicas "
            f"{max_replicas} at least min_replicas and 1"
        )
    model: dict[str, Any] = {
        "modelFormat": {"name": str(model_format)},
        "protocolVersion": "v2",
        "storageUri": storage_uri,
        "resources": _resources(accelerator, gpus=gpus, cpu=cpu, memory=memory),
    }
    if runtime is not None:
        model["runtime"] = runtime
    predictor: dict[str, Any] = {"minReplicas": min_replicas, "model": model}
    if max_replicas is not None:
        predictor["maxReplicas"] = max_replicas
    if canary_traffic_percent is not None:
        predictor["canaryTrafficPercent"] = _percent(canary_traffic_percent)
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata,
        "spec": {"predictor": predictor},
    }


def canary_traffic_percent(state: str, weight: int) -> int | None:
    """`canaryTrafficPercent` for a rollout (RolloutPublic's `state` and `weight`) when KServe
    does the split: the canary weight while the rollout runs; 0 once rolled back or aborted (all
    traffic back on the revision last rolled out); None once promoted (the field is dropped, so
    the candidate's revision becomes the one rolled out). KServe cannot mirror traffic, so a
    shadowing rollout gives the candidate 0."""
    try:
        rollout = RolloutState(state)
    except ValueError:
        states = ", ".join(RolloutState)
        raise ValueError(f"state: {state!r} is not a rollout state; use one of {states}") from None
    if rollout is RolloutState.PROMOTED:
        return None
    if rollout in (RolloutState.PROGRESSING, RolloutState.PAUSED):
        return _percent(weight)
    return 0


def to_yaml(manifest: Mapping[str, Any]) -> str:
    """The manifest as YAML, fields in the order they were built (as people write them)."""
    return yaml.safe_dump(dict(manifest), sort_keys=False)


def _resources(accelerator: Accelerator, *, gpus: int, cpu: str, memory: str) -> dict[str, Any]:
    limits: dict[str, str] = {"cpu": cpu, "memory": memory}
    if accelerator is Accelerator.GPU:
        # Kubernetes schedules extended resources by their limit; a request must equal it.
        limits["nvidia.com/gpu"] = str(gpus)
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": limits}


def _percent(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError(f"canary_traffic_percent: {value!r} must be a whole number 0..100")
    return value


def _check_name(name: str) -> None:
    if len(name) > _NAME_MAX or not _NAME.match(name):
        raise ValueError(
            f"name: {name!r} is not a valid InferenceService name; use at most {_NAME_MAX} "
            "lower-case letters, digits and '-', starting with a letter (e.g. 'churn-v3')"
        )
