"""Retraining runs of a model: status, logs, gate verdict, and lineage to MLflow versions."""

import json
from typing import Any

from dash import html
from dash.development.base_component import Component

from dashboard.client import ApiError, Json
from dashboard.components import (
    PAGE_SIZE,
    PageRequest,
    badge,
    facts,
    gather,
    model_heading,
    notice,
    offset,
    option_link,
    pager,
    section,
    table,
    when,
)


def _gate(passed: bool | None) -> html.Span:
    return badge(None if passed is None else "passed" if passed else "failed")


def _runs(request: PageRequest, model: str, runs: Json, selected: int | None) -> html.Section:
    rows = [
        [
            option_link(
                f"#{run['id']}",
                request.href("retraining", model=model, run=run["id"]),
                run["id"] == selected,
            ),
            badge(run["status"]),
            run["trigger"],
            run["event_id"] or "—",
            when(run["created_at"]),
            when(run["finished_at"]),
            f"{run['registry_model']} v{run['model_version']}" if run["model_version"] else "—",
            _gate(run["gate_passed"]),
        ]
        for run in runs["data"]
    ]
    headers = ["run", "status", "trigger", "event", "created", "finished", "version", "gate"]
    return section(
        f"{runs['count']} pipeline runs",
        table(headers, rows, id="retraining-table"),
        pager(request, "retraining", runs["count"]),
    )


def _detail(run: Json) -> html.Section:
    lineage = run["lineage"]
    shown: list[tuple[str, Any]] = [
        ("status", badge(run["status"])),
        ("trigger", f"{run['trigger']} {run['event_id'] or ''}"),
        (
            "rows",
            f"{run['rows_reference']} reference, {run['rows_production']} production, "
            f"{run['rows_holdout']} held out",
        ),
        ("MLflow run", run["mlflow_run_id"] or "—"),
        (
            "registered",
            f"{run['registry_model']} version {run['model_version']}"
            if run["model_version"]
            else "—",
        ),
        ("champion then", lineage["champion_version"] if lineage else "—"),
        ("error", run["error"] or "—"),
    ]
    parts: list[Component] = [facts(shown)]
    if run["gate"]:
        parts.append(html.H3("Validation gate"))
        parts.append(html.Pre(json.dumps(run["gate"], indent=2), className="log"))
    parts.append(html.H3("Logs"))
    parts.append(html.Pre(run["logs"] or "(no output)", className="log", id="retraining-logs"))
    return section(f"Run #{run['id']}", *parts, id="retraining-detail")


def _lineage(lineage: Json) -> html.Section:
    rows = [
        [
            f"{item['registry_model']} v{item['version']}",
            item["source"],
            f"#{item['run_id']}",
            item["event_id"] or "—",
            item["mlflow_run_id"] or "—",
            item["champion_version"] or "—",
            _gate(item["gate_passed"]),
            when(item["created_at"]),
        ]
        for item in lineage["data"]
    ]
    headers = ["version", "source", "run", "event", "MLflow run", "champion then", "gate", "at"]
    return section("Lineage to MLflow versions", table(headers, rows, id="lineage-table"))


def layout(request: PageRequest) -> html.Div:
    api = request.api
    parts, model = model_heading(request, "Retraining")
    if model is None:
        return html.Div(parts)
    found = gather(
        runs=lambda: api.retraining_runs(model, offset=offset(request), limit=PAGE_SIZE),
        lineage=lambda: api.lineage(model),
    )
    runs, lineage = found["runs"], found["lineage"]
    if isinstance(runs, ApiError):
        raise runs
    if not runs["count"]:
        return html.Div([*parts, notice(f"Model {model!r} has no retraining runs.", "empty")])
    selected = request.number("run", runs["data"][0]["id"])
    parts.append(_runs(request, model, runs, selected))
    parts.append(_detail(api.retraining_run(model, selected)))
    if not isinstance(lineage, ApiError):
        parts.append(_lineage(lineage))
    return html.Div(parts)
