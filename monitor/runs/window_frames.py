"""Turning a loaded window (Arrow) into the frames the detectors read."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from detectors import DriftConfig, MultivariateProfile, ReferenceProfile
from monitor.entities.monitor import MonitorBase, parse_duration
from monitor.windows.reader import Window

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def window_for(settings: MonitorBase, end: datetime) -> Window:
    if settings.window.duration is not None:
        return Window(start=end - parse_duration(settings.window.duration), end=end)
    return Window(start=EPOCH, end=end, last=settings.window.last_records)


def drift_config(overrides: dict[str, Any]) -> DriftConfig:
    """The detectors' defaults with a monitor's overrides laid over them (ValueError if bad)."""
    merged = {**DriftConfig().to_dict(), **overrides}
    try:
        return DriftConfig.from_dict(merged)
    except (KeyError, TypeError) as error:
        raise ValueError(f"drift settings are malformed: {error}") from error


Profile = ReferenceProfile | MultivariateProfile


def frame_for(table: pa.Table, profile: Profile | Sequence[Profile]) -> pd.DataFrame:
    """The profiles' columns of the window; a column the window lacks reads as all missing. Text
    columns come as pandas categoricals: one Python string per distinct value, not per row."""
    profiles = profile if isinstance(profile, Sequence) else [profile]
    columns = {}
    for spec in (spec for each in profiles for spec in each.schema):
        if spec.name in columns:
            continue
        if spec.name in table.column_names:
            column = table.column(spec.name)
            if pa.types.is_string(column.type):
                column = column.dictionary_encode()
            columns[spec.name] = column.to_pandas()
        else:
            columns[spec.name] = pd.Series([None] * table.num_rows, dtype=object)
    return pd.DataFrame(columns)
