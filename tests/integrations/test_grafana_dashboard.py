"""The Grafana dashboard in deploy/: every PromQL query in it reads, and names only metrics
that a scrape of the control plane returns after a real monitor run, a rollout and a
notification attempt; docker-compose.yml provisions it with a Prometheus scraping the API."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.factories import endpoint_payload, rollout_payload
from tests.integrations.promql import PromQLError, metric_names
from tests.integrations.scrape import scrape
from tests.runs.quality_scenario import URL
from triggers.notifications.webhook import new_secret

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "model-monitor.json"
_LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.*),\s*\w+\)$")


def queries(dashboard: dict[str, Any]) -> Iterator[str]:
    """Every PromQL expression: panel targets and the template variables' selectors."""
    for panel in dashboard["panels"]:
        for target in panel.get("targets") or ():
            yield target["expr"]
    for variable in dashboard["templating"]["list"]:
        found = _LABEL_VALUES.match(variable["query"]["query"])
        assert found, f"variable {variable['name']}: not a label_values(selector, label) query"
        yield found["selector"]


def test_every_query_of_the_dashboard_reads_as_promql() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = list(queries(dashboard))
    assert len(expressions) >= 20
    for expression in expressions:
        assert metric_names(expression), f"{expression!r} selects no metric"


def test_a_query_with_an_unknown_function_or_open_bracket_is_refused() -> None:
    with pytest.raises(PromQLError, match="unknown function"):
        metric_names("rates(monitor_runs_total[5m])")
    with pytest.raises(PromQLError, match="unclosed"):
        metric_names("sum(monitor_runs_total")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # names, not storage
def test_every_metric_the_dashboard_reads_is_in_a_scrape_after_a_real_run(
    monitored: dict[str, Any], client: TestClient, admin: dict[str, str]
) -> None:
    for name, url, version in (("blue", "http://127.0.0.1:9001", "1"), ("green", None, None)):
        body = endpoint_payload(name, model_version=version, **({"url": url} if url else {}))
        assert client.post(f"{URL}/endpoints", json=body, headers=admin).status_code == 201
    reply = client.post(f"{URL}/rollouts", json=rollout_payload(), headers=admin)
    assert reply.status_code == 201, reply.text
    channel = {
        "name": "unreachable",
        "kind": "webhook",
        "secrets": {"url": "http://127.0.0.1:9/hook", "signing_secret": new_secret()},
    }
    assert client.post("/api/v1/channels", json=channel, headers=admin).status_code == 201
    assert client.post("/api/v1/channels/unreachable/test", headers=admin).status_code == 200
    exported = set(scrape(client))
    read = {name for q in queries(json.loads(DASHBOARD.read_text())) for name in metric_names(q)}
    assert read - exported == set(), f"the dashboard reads metrics the scrape lacks: {exported}"


def test_compose_provisions_prometheus_scraping_the_api_and_grafana_with_the_dashboard() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    prometheus = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    (job,) = prometheus["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["api:8000"]
    assert "8000:8000" in compose["api"]["ports"]
    mounts = {m.split(":")[1]: REPO / m.split(":")[0] for m in compose["grafana"]["volumes"]}
    assert (mounts["/var/lib/grafana/dashboards"] / DASHBOARD.name).is_file()
    provisioning = mounts["/etc/grafana/provisioning"]
    provider = yaml.safe_load((provisioning / "dashboards/model-monitor.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    source = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())
    uid = source["datasources"][0]["uid"]
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    dashboard = json.loads(DASHBOARD.read_text())
    used = {p["datasource"]["uid"] for p in dashboard["panels"] if "datasource" in p}
    assert used == {uid}
    prometheus_mount = compose["prometheus"]["volumes"][0].split(":")
    assert REPO / prometheus_mount[0] == REPO / "deploy/prometheus/prometheus.yml"
