"""The CloudEvents mode of `benchmarks/ingest.py`: KServe payload-logger events into a real
`monitor serve` on PostgreSQL, against the inferences API on the same records as the peer.

Each call is a request event and a response event with the same `ce-id`, built with the
`cloudevents` SDK in binary content mode as KServe's agent sends them; half the calls are v1
(`instances` / `predictions`), half Open Inference Protocol v2 (one `[N, 24]` input tensor, one
`[N]` output). Events go out shuffled, so a response often arrives before its request and waits
in the store; a tenth are sent twice. The run checks that exactly one record per instance
landed and that nothing waits afterwards.
"""

import random
import threading
import time
from typing import Any

import httpx
import orjson
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

TARGET_RECORDS_PER_S = 10_000
KINDS = ("org.kubeflow.serving.inference.request", "org.kubeflow.serving.inference.response")
Event = tuple[dict[str, str], bytes]


def _event(kind: str, event_id: str, data: dict[str, Any], model: str) -> Event:
    attributes = {
        "specversion": "1.0",
        "id": event_id,
        "type": kind,
        "source": "http://localhost:9081/",
        "inferenceservicename": model,
        "namespace": "bench",
        "component": "predictor",
        "endpoint": "default",
        "datacontenttype": "application/json",
    }
    headers, body = to_binary(CloudEvent(attributes, orjson.dumps(data)))
    return dict(headers), body


def call_events(
    model: str, call: int, instances: list[dict[str, Any]], predictions: list[float]
) -> list[Event]:
    """The request and response events of one call; v1 for even calls, v2 for odd ones."""
    rows = [list(instance.values()) for instance in instances]
    if call % 2 == 0:
        request: dict[str, Any] = {"instances": rows}
        response: dict[str, Any] = {"predictions": predictions}
    else:
        shape = [len(rows), len(rows[0])]
        request = {"inputs": [{"name": "x", "shape": shape, "datatype": "BYTES", "data": rows}]}
        output = {"name": "score", "shape": [len(rows)], "datatype": "FP32", "data": predictions}
        response = {"model_name": model, "outputs": [output]}
    event_id = f"bench-{call}"
    return [
        _event(KINDS[0], event_id, request, model),
        _event(KINDS[1], event_id, response, model),
    ]


def post_events(base_url: str, key: str, events: list[Event], clients: int) -> list[int]:
    """POST every event over `clients` keep-alive connections; the status codes."""
    pending = iter(events)
    lock = threading.Lock()
    statuses: list[int] = []

    def logger() -> None:
        auth = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base_url, headers=auth, timeout=120) as client:
            while True:
                with lock:
                    event = next(pending, None)
                if event is None:
                    return
                headers, body = event
                status = client.post("/api/v1/kserve/events", content=body, headers=headers)
                with lock:
                    statuses.append(status.status_code)

    threads = [threading.Thread(target=logger) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def shuffled_with_repeats(events: list[Event], seed: int = 18) -> list[Event]:
    shuffler = random.Random(seed)
    sent = events + shuffler.sample(events, len(events) // 10)
    shuffler.shuffle(sent)
    return sent


def cloudevents_throughput(
    base_url: str, key: str, model: str, calls: list[list[Event]], records: int, clients: int
) -> float:
    """Records per second landed by the events of `calls`; checks every record landed once."""
    events = shuffled_with_repeats([event for call in calls for event in call])
    started = time.perf_counter()
    statuses = post_events(base_url, key, events, clients)
    elapsed = time.perf_counter() - started
    if set(statuses) != {200}:
        raise RuntimeError(f"events refused: {sorted(set(statuses))}")
    pending = httpx.get(
        f"{base_url}/api/v1/models/{model}/kserve/pending",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    ).json()
    if pending["waiting_requests"] or pending["waiting_responses"]:
        raise RuntimeError(f"halves still waiting after the run: {pending}")
    return records / elapsed
