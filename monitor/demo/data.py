"""The demo's data: scikit-learn's bundled breast-cancer set as a model's reference and as the
production traffic that later drifts (a recalibrated scanner: areas read 60% larger; then, when
the demo heals twice, a new stain: textures read 50% larger)."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

MODEL = "cancer"
# The champion trains on the first rows and is validated on the next ones, which become the
# monitor's reference (a model's own training rows would flatter its quality); the rest feed
# production traffic.
TRAINING_ROWS = 200
REFERENCE_ROWS = 170
# Each drift the demo injects, in order: the features it scales and by how much.
DRIFTS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("worst_area", "mean_area", "area_error"), 1.6),
    (("worst_texture", "mean_texture", "texture_error"), 1.5),
)
JITTER = 0.02  # of each feature's spread, so resampled traffic rows are not exact copies


def cancer_frame() -> pd.DataFrame:
    """30 numerical features with underscored names and `label` '0' (malignant) or '1'."""
    data = load_breast_cancer(as_frame=True)
    frame = data.data.rename(columns=lambda name: name.replace(" ", "_"))
    frame["label"] = data.target.astype(str)
    shuffled: pd.DataFrame = frame.sample(frac=1.0, random_state=7).reset_index(drop=True)
    return shuffled


def training_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:TRAINING_ROWS]


def reference_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[TRAINING_ROWS : TRAINING_ROWS + REFERENCE_ROWS]


def feature_names(frame: pd.DataFrame) -> list[str]:
    return [column for column in frame.columns if column != "label"]


def model_payload(frame: pd.DataFrame) -> dict[str, object]:
    return {
        "name": MODEL,
        "task": "binary_classification",
        "class_labels": ["0", "1"],
        "description": "Breast-cancer screening (the monitor demo)",
        "features": [{"name": name, "kind": "numerical"} for name in feature_names(frame)],
    }


@dataclass
class TrafficSource:
    """Draws production rows (features and the true label) from the rows the reference left out."""

    pool: pd.DataFrame
    spread: np.ndarray
    rng: np.random.Generator
    drifts: int = 0  # how many of DRIFTS apply now

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, seed: int) -> "TrafficSource":
        pool = frame.iloc[TRAINING_ROWS + REFERENCE_ROWS :].reset_index(drop=True)
        spread = pool[feature_names(pool)].std().to_numpy()
        return cls(pool=pool, spread=spread, rng=np.random.default_rng(seed))

    def draw(self) -> tuple[list[float], str]:
        row = self.pool.iloc[int(self.rng.integers(len(self.pool)))]
        names = feature_names(self.pool)
        values = row[names].to_numpy(dtype=float)
        values = np.abs(values + self.rng.normal(0.0, JITTER, len(values)) * self.spread)
        for features, scale in DRIFTS[: self.drifts]:
            for name in features:
                values[names.index(name)] *= scale
        return [round(float(v), 6) for v in values], str(row["label"])
