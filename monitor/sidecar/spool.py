"""A bounded queue of record batches on local disk, oldest first, for while the control plane
is away; it survives a sidecar restart.

Each batch is one file named `<sequence>-<records>.batch`, written under a temporary name and
renamed, so a crash never leaves half a batch to replay. Methods block on file I/O: the
shipper calls them from a worker thread, one at a time.
"""

import logging
from collections import deque
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

SUFFIX = ".batch"


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    path: Path
    records: int
    size: int


def _spooled(path: Path) -> SpooledBatch:
    records = int(path.stem.split("-")[1])
    return SpooledBatch(path, records, path.stat().st_size)


class Spool:
    def __init__(self, folder: Path, max_bytes: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for partial in folder.glob(f"*{SUFFIX}.tmp"):
            partial.unlink()
        self._folder = folder
        self._max_bytes = max_bytes
        self._batches = deque(_spooled(path) for path in sorted(folder.glob(f"*{SUFFIX}")))
        self._next = int(self._batches[-1].path.stem.split("-")[0]) + 1 if self._batches else 0
        self.bytes = sum(batch.size for batch in self._batches)

    def __len__(self) -> int:
        return len(self._batches)

    def append(self, payload: bytes, records: int) -> int:
        """Keep a batch; returns the records dropped to make room (oldest batches first, or
        this one if it alone is larger than the spool)."""
        if len(payload) > self._max_bytes:
            logger.warning(
                "a batch of %d records (%d bytes) is larger than the whole spool; dropped",
                records,
                len(payload),
            )
            return records
        dropped = 0
        while self._batches and self.bytes + len(payload) > self._max_bytes:
            dropped += self._drop(self._batches[0]).records
        if dropped:
            logger.warning("spool full: dropped the oldest %d spooled records", dropped)
        path = self._folder / f"{self._next:016d}-{records}{SUFFIX}"
        partial = path.with_name(path.name + ".tmp")
        partial.write_bytes(payload)
        partial.rename(path)
        self._next += 1
        self._batches.append(SpooledBatch(path, records, len(payload)))
        self.bytes += len(payload)
        return dropped

    def oldest(self) -> tuple[SpooledBatch, bytes] | None:
        if not self._batches:
            return None
        batch = self._batches[0]
        return batch, batch.path.read_bytes()

    def remove(self, batch: SpooledBatch) -> None:
        if self._batches and self._batches[0] == batch:
            self._drop(batch)

    def _drop(self, batch: SpooledBatch) -> SpooledBatch:
        self._batches.popleft()
        self.bytes -= batch.size
        batch.path.unlink(missing_ok=True)
        return batch
