"""Triton Python-backend model: a binary logistic regression scored from weights stored beside it.

Runs inside tritonserver's Python backend stub (the `.venv-triton` interpreter), not in our
process: it may import only numpy and Triton's `triton_python_backend_utils`. Triton itself
refuses inputs whose shape breaks `config.pbtxt`, before they reach `execute`.
"""

from pathlib import Path
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils  # provided by the Python backend at run time

WEIGHTS_FILE = "weights.npz"


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        version_dir = Path(args["model_repository"]) / args["model_version"]
        with np.load(version_dir / WEIGHTS_FILE) as weights:
            self.coef = weights["coef"].astype(np.float64)
            self.intercept = float(weights["intercept"])

    def execute(self, requests: list[Any]) -> list[Any]:
        return [self._score(request) for request in requests]

    def _score(self, request: Any) -> Any:
        features = pb_utils.get_input_tensor_by_name(request, "input__0").as_numpy()
        positive = 1.0 / (1.0 + np.exp(-(features @ self.coef + self.intercept)))
        proba = np.stack([1.0 - positive, positive], axis=1).astype(np.float32)
        return pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("predict_proba", proba)])
