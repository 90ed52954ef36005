"""What a run keeps of its window while reading it batch by batch: mergeable summaries on the
reference's grid for the drift tests, a summed reconstruction error for multivariate drift, the
rows quality needs and a bounded sample for the report and SHAP. Its memory does not grow with
the window; digests of disjoint parts of one window `merge` into the digest of the whole."""

from dataclasses import dataclass
from typing import Self

import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection

from detectors import (
    DriftConfig,
    MultivariateProfile,
    MultivariateWindow,
    ReferenceProfile,
    WindowSummary,
    merge_summaries,
    summarize_frame,
)
from monitor.entities.registered_model import ModelSchema
from monitor.runs.quality import QualityRows
from monitor.runs.window_frames import frame_for
from monitor.windows.sample import RowSample
from monitor.windows.segments import TIMESTAMP, segment_schema


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """What a run reads of its window and against which profiles."""

    schema: ModelSchema
    features: ReferenceProfile
    outputs: ReferenceProfile
    config: DriftConfig
    multivariate: MultivariateProfile | None = None
    quality: bool = False
    sample_rows: int = 0  # rows of the features kept for the report and SHAP

    @property
    def profiles(self) -> list[ReferenceProfile | MultivariateProfile]:
        present = (self.features, self.outputs, self.multivariate)
        return [profile for profile in present if profile is not None]

    @property
    def columns(self) -> list[str]:
        """The window columns to decode."""
        names = [spec.name for spec in (*self.features.schema, *self.outputs.schema)]
        if self.quality:
            names += QualityRows(self.schema).read_columns
        return list(dict.fromkeys([*names, TIMESTAMP]))


class WindowDigest:
    """Fold a window's batches in with `add`; read the summaries once all are in."""

    def __init__(self, plan: DigestPlan) -> None:
        self.plan = plan
        empty = frame_for(segment_schema(plan.schema).empty_table(), plan.profiles)
        self.n_rows = 0
        self.features: WindowSummary = self._summary(plan.features, empty)
        self.outputs: WindowSummary = self._summary(plan.outputs, empty)
        self.multivariate = MultivariateWindow(0, 0.0, 0, 0)
        self.quality = QualityRows(plan.schema) if plan.quality else None
        self.sample = RowSample(plan.sample_rows)

    def add(self, connection: Connection, model_id: int, batch: pa.Table) -> None:
        """Fold in a batch of the window (its `plan.columns`); `connection` reads its labels."""
        plan = self.plan
        self.n_rows += batch.num_rows
        frame = frame_for(batch, plan.profiles)  # each column converted once for every profile
        self.features = self._merged(plan.features, self.features, frame)
        self.outputs = self._merged(plan.outputs, self.outputs, frame)
        if plan.multivariate is not None:
            part = MultivariateWindow.of(plan.multivariate, frame)
            self.multivariate = self.multivariate.merge(part)
        if self.quality is not None:
            self.quality.add(connection, model_id, batch)
        if plan.sample_rows:
            self.sample.add(batch.select(self.plan.schema.feature_names))

    def merge(self, other: Self) -> None:
        """Fold in the digest of another, disjoint, part of the same window (same plan)."""
        plan = self.plan
        self.n_rows += other.n_rows
        self.features = merge_summaries(plan.features, self.features, other.features, plan.config)
        self.outputs = merge_summaries(plan.outputs, self.outputs, other.outputs, plan.config)
        self.multivariate = self.multivariate.merge(other.multivariate)
        self.sample.merge(other.sample)
        if self.quality is not None and other.quality is not None:
            self.quality.merge(other.quality)

    def sampled(self) -> pa.Table:
        """The bounded sample of the window's feature columns."""
        schema = segment_schema(self.plan.schema)
        return self.sample.table(
            pa.schema([schema.field(name) for name in self.plan.schema.feature_names])
        )

    def _summary(self, profile: ReferenceProfile, frame: pd.DataFrame) -> WindowSummary:
        return summarize_frame(profile, frame, self.plan.config)

    def _merged(
        self, profile: ReferenceProfile, summary: WindowSummary, frame: pd.DataFrame
    ) -> WindowSummary:
        return merge_summaries(profile, summary, self._summary(profile, frame), self.plan.config)
