"""A seeded uniform sample of bounded size over a window read in batches, for the parts of a run
that need rows rather than counts (Evidently's report, SHAP, performance estimation)."""

from typing import Self

import numpy as np
import pyarrow as pa


class RowSample:
    """At most `capacity` rows, uniformly chosen from every table `add`ed (bottom-k of seeded
    random keys), in reading order. While the tables add up to at most `capacity` rows the
    sample is all of them, so a window of that size is used whole. Samples of disjoint parts
    `merge` into a uniform sample of the whole."""

    def __init__(self, capacity: int, seed: int = 0) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must be a non-negative integer, got {capacity}")
        self.capacity = capacity
        self.n_seen = 0
        self._rng = np.random.default_rng(seed)
        self._table: pa.Table | None = None
        self._keys = np.empty(0)

    def add(self, table: pa.Table) -> None:
        self.n_seen += table.num_rows
        if self.capacity:
            self._keep(table, self._rng.random(table.num_rows))

    def merge(self, other: Self) -> None:
        self.n_seen += other.n_seen
        if other._table is not None:
            self._keep(other._table, other._keys)

    def table(self, schema: pa.Schema) -> pa.Table:
        """The sampled rows (an empty table of `schema` when none were added)."""
        return schema.empty_table() if self._table is None else self._table

    def _keep(self, table: pa.Table, keys: np.ndarray) -> None:
        if self._table is not None:
            table = pa.concat_tables([self._table, table])
            keys = np.concatenate([self._keys, keys])
        if table.num_rows > self.capacity:
            chosen = np.sort(np.argpartition(keys, self.capacity)[: self.capacity])
            table, keys = table.take(chosen), keys[chosen]
        self._table, self._keys = table, keys
