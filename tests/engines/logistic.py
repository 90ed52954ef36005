"""The test model for Triton: a scikit-learn logistic regression served by a Python-backend
model (`logistic_triton/model.py`) that scores the fitted weights.

Input `input__0` FP32 [-1, n_features] in `FEATURES` order; output `predict_proba` FP32 [-1, 2].
"""

import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from monitor.deployers.triton import TensorSpec, TritonModelConfig, write_model_version

FEATURES = ("tenure", "spend", "visits", "tickets")
MODEL_SOURCE = Path(__file__).with_name("logistic_triton") / "model.py"


def fit_classifier(seed: int = 0) -> LogisticRegression:
    features, labels = make_classification(
        n_samples=400, n_features=len(FEATURES), n_informative=3, n_redundant=1, random_state=seed
    )
    return LogisticRegression().fit(features, labels)


def logistic_config(name: str) -> TritonModelConfig:
    return TritonModelConfig(
        name=name,
        backend="python",
        inputs=(TensorSpec("input__0", "TYPE_FP32", (-1, len(FEATURES))),),
        outputs=(TensorSpec("predict_proba", "TYPE_FP32", (-1, 2)),),
    )


def write_logistic_model(
    repository: Path, name: str, *, version: int, classifier: LogisticRegression
) -> TritonModelConfig:
    """Write `classifier` as `version` of model `name` into the repository."""
    config = logistic_config(name)
    with tempfile.TemporaryDirectory() as staging:
        files = Path(staging)
        (files / "model.py").write_bytes(MODEL_SOURCE.read_bytes())
        weights = {"coef": classifier.coef_[0], "intercept": classifier.intercept_[0]}
        np.savez(files / "weights.npz", **weights)
        write_model_version(repository, config, version=version, source=files)
    return config
