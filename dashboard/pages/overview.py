"""Every model with its health, last run, open alerts, active rollout and traffic."""

from typing import Any

from dash import dcc, html

from dashboard.components import (
    PAGE_SIZE,
    PageRequest,
    badge,
    offset,
    pager,
    section,
    segment,
    table,
    when,
)
from dashboard.figures import sparkline


def _last_run(run: dict[str, Any] | None) -> Any:
    if run is None:
        return "never"
    drifted = f"{run['drifted_features']}/{run['tested_features']} drifted"
    return html.Span(
        [badge(run["status"]), f" {run['monitor']} {when(run['window_end'])}, {drifted}"]
    )


def _rollout(rollout: dict[str, Any] | None) -> Any:
    if rollout is None:
        return "—"
    return html.Span([badge(rollout["state"]), f" canary {rollout['weight']}%"])


def layout(request: PageRequest) -> html.Div:
    page = request.api.overview(offset=offset(request), limit=PAGE_SIZE)
    if not page["count"]:
        return html.Div(
            [html.H1("Models"), html.P("No models are registered yet.", id="overview-empty")]
        )
    rows = [
        [
            dcc.Link(model["name"], href=request.href(f"models/{segment(model['name'])}")),
            badge(model["health"]),
            _last_run(model["last_run"]),
            str(model["open_alerts"]),
            _rollout(model.get("active_rollout")),
            html.Img(
                src=sparkline(model["traffic"]),
                alt=f"{sum(model['traffic'])} records in {page['traffic_hours']} h",
                title=f"{sum(model['traffic'])} records in the last {page['traffic_hours']} h",
            ),
        ]
        for model in page["data"]
    ]
    headers = ["model", "health", "last run", "open alerts", "rollout", "traffic (24 h)"]
    return html.Div(
        [
            html.H1("Models"),
            section(
                f"{page['count']} models",
                table(headers, rows, id="overview-table"),
                pager(request, "", page["count"]),
            ),
        ]
    )
