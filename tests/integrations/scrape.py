"""Reading `GET /metrics` back with prometheus_client's own parser."""

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


def scrape(client: TestClient) -> dict[str, list[Sample]]:
    """Every sample of the exposition by metric name, parsed by prometheus_client's parser."""
    reply = client.get("/metrics")
    assert reply.status_code == 200
    samples: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: dict[str, list[Sample]], name: str, **labels: str) -> float:
    matching = [s for s in samples.get(name, []) if labels.items() <= s.labels.items()]
    assert len(matching) == 1, f"{name}{labels}: {matching}"
    return matching[0].value
