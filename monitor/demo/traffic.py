"""Production traffic for the demo: callers scoring through the sidecar at a steady rate, and the
ground truth that follows each answer a moment later, as a labelling team would send it."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from monitor.demo.data import MODEL, TrafficSource, feature_names

USERS = 500
LABEL_FLUSH_S = 1.0


@dataclass
class TrafficStats:
    served: Counter[str] = field(default_factory=Counter)  # by the variant that answered
    failed: int = 0


class Traffic:
    """`rate` requests a second from `callers` threads, until `stop()`."""

    def __init__(
        self,
        *,
        source: TrafficSource,
        sidecar_url: str,
        control_plane_url: str,
        ingest_key: str,
        rate: float,
        callers: int = 3,
    ) -> None:
        self.source = source
        self.sidecar_url = sidecar_url
        self.control_plane_url = control_plane_url
        self.ingest_key = ingest_key
        self.interval = callers / rate
        self.callers = callers
        self.stats = TrafficStats()
        self._labels: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._columns = feature_names(source.pool)

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._call, args=(n,), daemon=True) for n in range(self.callers)
        ]
        self._threads.append(threading.Thread(target=self._send_labels, daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _call(self, caller: int) -> None:
        with httpx.Client(base_url=self.sidecar_url, timeout=10.0) as client:
            next_at = time.monotonic()
            while not self._stop.is_set():
                with self._lock:
                    values, label = self.source.draw()
                    user = int(self.source.rng.integers(USERS))
                body = {"dataframe_split": {"columns": self._columns, "data": [values]}}
                headers = {"X-User-Id": f"user-{user}"}
                try:
                    answer = client.post("/invocations", json=body, headers=headers)
                except httpx.TransportError:
                    answer = None
                with self._lock:
                    if answer is not None and answer.status_code == 200:
                        self.stats.served[answer.headers.get("x-model-variant", "stable")] += 1
                        # Labels join on the id the sidecar gave the record.
                        request_id = answer.headers["X-Request-Id"]
                        self._labels.append({"request_id": request_id, "label": label})
                    else:
                        self.stats.failed += 1
                next_at += self.interval
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _send_labels(self) -> None:
        headers = {"Authorization": f"Bearer {self.ingest_key}"}
        url = f"/api/v1/models/{MODEL}/labels"
        with httpx.Client(base_url=self.control_plane_url, headers=headers, timeout=10.0) as api:
            while not self._stop.wait(LABEL_FLUSH_S):
                with self._lock:
                    labels, self._labels = self._labels, []
                if not labels:
                    continue
                try:
                    api.post(url, json={"labels": labels}).raise_for_status()
                except httpx.HTTPError:
                    with self._lock:  # keep them for the next flush
                        self._labels = labels + self._labels
