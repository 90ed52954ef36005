"""Models for the isolated gate's tests: one that scores, one whose load crashes the process
that loads it, one whose load never ends. Logged as MLflow pyfunc models by reference to this
module, which the gate's child process imports to load them."""

import os
import time
from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel, PythonModelContext


class SignalReader(PythonModel):  # type: ignore[misc]
    """The probability of class '1' is a logistic function of the `signal` column."""

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: Any = None
    ) -> Any:
        positive = 1 / (1 + np.exp(-4 * model_input["signal"].to_numpy(dtype=float)))
        return np.column_stack([1 - positive, positive])


class CrashesOnLoad(SignalReader):
    """Aborts the process that loads it, as a model with a broken native extension would."""

    def load_context(self, context: PythonModelContext) -> None:
        os.abort()


class HangsOnLoad(SignalReader):
    """Never finishes loading, as a model waiting on an unreachable resource would."""

    def load_context(self, context: PythonModelContext) -> None:
        time.sleep(3600)
