"""Shipping records to the control plane in batches, off the request path: every
`flush_seconds` or `flush_records`, spooled to disk while the control plane does not answer and
replayed in order when it does (the request ids make replays idempotent)."""

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import orjson

from monitor.sidecar.capture import CaptureError, Exchange, ModelShape, records
from monitor.sidecar.control_plane import TRANSIENT_ERRORS, ControlPlane
from monitor.sidecar.spool import Spool

logger = logging.getLogger(__name__)

# Exchanges kept in memory while no schema is known yet (first start, control plane away).
MAX_UNPARSED = 100_000
RETRIED_CLIENT_ERRORS = frozenset({408, 429})


@dataclass
class Counts:
    shipped_records: int = 0
    dropped_records: int = 0


class Shipper:
    def __init__(
        self,
        control_plane: ControlPlane,
        spool: Spool,
        *,
        schema: ModelShape | None,
        flush_records: int,
        flush_seconds: float,
        max_pending_bytes: int,
    ) -> None:
        self.schema = schema
        self.counts = Counts()
        self._control_plane = control_plane
        self._spool = spool
        self._flush_records = flush_records
        self._flush_seconds = flush_seconds
        self._pending: list[Exchange] = []
        self._pending_bytes = 0
        self._max_pending_bytes = max_pending_bytes
        self._spills: set[asyncio.Task[None]] = set()
        self._due = asyncio.Event()
        self._closing = False

    @property
    def spooled_batches(self) -> int:
        return len(self._spool)

    @property
    def spooled_bytes(self) -> int:
        return self._spool.bytes

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    def add(self, exchange: Exchange) -> None:
        """Queue an exchange; never waits (the request path calls it). Past the byte budget,
        what is pending goes to the spool in the background: a control plane that hangs must
        not make the sidecar hold every body it serves."""
        self._pending.append(exchange)
        self._pending_bytes += _size(exchange)
        if self._pending_bytes > self._max_pending_bytes:
            self._spill_pending()
        elif len(self._pending) >= self._flush_records:
            self._due.set()

    def _take_pending(self) -> list[Exchange]:
        exchanges, self._pending, self._pending_bytes = self._pending, [], 0
        return exchanges

    def _spill_pending(self) -> None:
        if self.schema is None:
            self._bound_unparsed()
            return
        task = asyncio.get_running_loop().create_task(
            self._spill(self.schema, self._take_pending())
        )
        self._spills.add(task)
        task.add_done_callback(self._spills.discard)

    async def _spill(self, schema: ModelShape, exchanges: list[Exchange]) -> None:
        batch = self._records(schema, exchanges)
        for start in range(0, len(batch), self._flush_records):
            chunk = batch[start : start + self._flush_records]
            await self._keep(orjson.dumps({"records": chunk}), len(chunk))
        logger.warning("over the pending byte budget: spooled %d records to send later", len(batch))

    async def run(self) -> None:
        """Flush on time or size until closed, then once more (spooling what cannot go)."""
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), self._flush_seconds)
            self._due.clear()
            await self.flush()
            if self._closing:
                return

    def close(self) -> None:
        self._closing = True
        self._due.set()

    async def flush(self) -> None:
        """Send what is pending (spooling what cannot go now), then replay the spool."""
        if self.schema is None:
            self._bound_unparsed()
            return
        batch = self._records(self.schema, self._take_pending())
        for start in range(0, len(batch), self._flush_records):
            chunk = batch[start : start + self._flush_records]
            await self._deliver(orjson.dumps({"records": chunk}), len(chunk))
        await self._replay()

    def _records(self, schema: ModelShape, exchanges: list[Exchange]) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        failures: list[str] = []
        for exchange in exchanges:
            try:
                batch.extend(records(schema, exchange))
            except CaptureError as error:
                failures.append(f"{exchange.request_id}: {error}")
        if failures:
            self.counts.dropped_records += len(failures)
            logger.warning(
                "%d served requests could not be captured, e.g. %s", len(failures), failures[0]
            )
        return batch

    def _bound_unparsed(self) -> None:
        """Without a schema nothing can be spooled: keep the newest exchanges, within the
        count and byte bounds."""
        excess = 0
        while excess < len(self._pending) - 1 and (
            len(self._pending) - excess > MAX_UNPARSED
            or self._pending_bytes > self._max_pending_bytes
        ):
            self._pending_bytes -= _size(self._pending[excess])
            excess += 1
        if excess > 0:
            del self._pending[:excess]
            self.counts.dropped_records += excess
            logger.warning(
                "no model schema yet (control plane never reached): dropped the oldest %d "
                "requests' records",
                excess,
            )

    async def _deliver(self, payload: bytes, count: int) -> None:
        if len(self._spool) and not await self._replay():
            await self._keep(payload, count)  # behind the older batches, to keep the order
        elif not await self._send(payload, count):
            await self._keep(payload, count)

    async def _replay(self) -> bool:
        """Send spooled batches oldest first; True once the spool is empty."""
        while oldest := await asyncio.to_thread(self._spool.oldest):
            batch, payload = oldest
            if not await self._send(payload, batch.records):
                return False
            await asyncio.to_thread(self._spool.remove, batch)
            logger.info("replayed a spooled batch of %d records", batch.records)
        return True

    async def _keep(self, payload: bytes, count: int) -> None:
        self.counts.dropped_records += await asyncio.to_thread(self._spool.append, payload, count)

    async def _send(self, payload: bytes, count: int, *, after_refusal: bool = False) -> bool:
        """Whether the batch is done with: delivered, or refused for good (and dropped).
        False: try again later."""
        try:
            status, body = await self._control_plane.send(payload)
        except TRANSIENT_ERRORS as error:
            logger.warning("control plane unreachable (%r); %d records wait", error, count)
            return False
        if status < 300:
            self.counts.shipped_records += count
            return True
        if status >= 500 or status in RETRIED_CLIENT_ERRORS:
            logger.warning("control plane answered %d; %d records wait", status, count)
            return False
        if status == 422 and not after_refusal:
            kept = _unrefused(payload, body)
            if kept is not None:
                return await self._send_unrefused(kept, count, body)
        self.counts.dropped_records += count
        logger.error(
            "control plane refused %d records (%d): %s",
            count,
            status,
            body.decode(errors="replace")[:1000],
        )
        return True

    async def _send_unrefused(self, kept: list[Any], count: int, answer: bytes) -> bool:
        """Drop only the records a 422 named, and send the rest once more: one odd request
        must not lose a whole batch."""
        self.counts.dropped_records += count - len(kept)
        logger.error(
            "control plane refused %d of %d records: %s",
            count - len(kept),
            count,
            answer.decode(errors="replace")[:1000],
        )
        if kept:
            payload = orjson.dumps({"records": kept})
            if not await self._send(payload, len(kept), after_refusal=True):
                await self._keep(payload, len(kept))
        return True


def _size(exchange: Exchange) -> int:
    return len(exchange.request_body) + len(exchange.response_body)


def _unrefused(payload: bytes, answer: bytes) -> list[Any] | None:
    """The records of `payload` that a 422 `answer` does not name; None if it names none."""
    try:
        problems = orjson.loads(answer)["detail"]
        refused = {p["loc"][2] for p in problems if p["loc"][:2] == ["body", "records"]}
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    if not refused:
        return None
    sent = orjson.loads(payload)["records"]
    return [record for index, record in enumerate(sent) if index not in refused]
