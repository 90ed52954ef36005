"""The event log as a filterable timeline, and the deliveries of events to channels with their
attempts and a redeliver button."""

import json
from typing import Any

from dash import ALL, Dash, Input, Output, ctx, dcc, html, no_update
from dash.development.base_component import Component

from dashboard.client import ApiError, MonitorApi
from dashboard.components import (
    PAGE_SIZE,
    PageRequest,
    badge,
    graph,
    notice,
    offset,
    pager,
    search,
    section,
    segment,
    table,
    when,
)
from dashboard.figures import events_timeline

EVENT_TYPES = [
    "drift.detected",
    "drift.ongoing",
    "drift.resolved",
    "run.failed",
    "retrain.requested",
    "retrain.started",
    "retrain.succeeded",
    "retrain.failed",
    "model.registered",
    "validation.passed",
    "validation.failed",
    "rollout.started",
    "rollout.step",
    "rollout.paused",
    "rollout.resumed",
    "rollout.promoted",
    "rollout.rolled_back",
    "rollout.aborted",
    "model_quality.degraded",
    "model_quality.recovered",
]
SEVERITIES = ["info", "warning", "error", "critical"]
DELIVERY_STATUSES = ["pending", "delivered", "dead", "suppressed"]


def _filters(request: PageRequest, models: list[str]) -> html.Div:
    types = request.text("type")
    return html.Div(
        [
            dcc.Dropdown(
                models, request.text("model"), id="events-model", placeholder="every model"
            ),
            dcc.Dropdown(
                EVENT_TYPES,
                types.split(",") if types else [],
                id="events-type",
                multi=True,
                placeholder="every type",
            ),
            dcc.Dropdown(
                SEVERITIES,
                request.text("severity"),
                id="events-severity",
                placeholder="any severity",
            ),
        ],
        className="filters",
    )


def _events(request: PageRequest, page: dict[str, Any]) -> html.Section:
    rows = [
        [
            when(event["time"]),
            event["type"],
            badge(event["severity"]),
            dcc.Link(event["model"], href=request.href(f"models/{segment(event['model'])}"))
            if event["model"]
            else "—",
            html.Code(json.dumps(event["data"])[:140]),
        ]
        for event in page["data"]
    ]
    return section(
        f"{page['count']} events",
        graph("events-timeline", events_timeline(page["data"])) if page["data"] else "",
        table(["time", "type", "severity", "model", "data"], rows, id="events-table"),
        pager(request, "events", page["count"]),
        id="events-section",
    )


def _deliveries(request: PageRequest, page: dict[str, Any]) -> html.Section:
    rows = [
        [
            str(delivery["id"]),
            delivery["channel"],
            delivery["event_type"],
            badge(delivery["status"]),
            str(delivery["attempts"]),
            when(delivery["next_attempt_at"] or delivery["delivered_at"]),
            delivery["note"][:80],
            html.Button(
                "attempts",
                id={"type": "delivery-attempts", "id": delivery["id"]},
                className="small",
            ),
            html.Button(
                "redeliver",
                id={"type": "redeliver", "id": delivery["id"]},
                className="small action",
                title="needs a session signed in with an admin key",
            ),
        ]
        for delivery in page["data"]
    ]
    headers = ["id", "channel", "event", "status", "attempts", "next / delivered", "note", "", ""]
    return section(
        f"{page['count']} deliveries",
        dcc.Dropdown(
            DELIVERY_STATUSES,
            request.text("dstatus"),
            id="deliveries-status",
            placeholder="any status",
            className="narrow",
        ),
        html.Div(id="redeliver-result", className="action-result"),
        table(headers, rows, id="deliveries-table"),
        pager(request, "events", page["count"], param="dpage"),
        html.Div(id="delivery-attempts"),
        id="deliveries-section",
    )


def layout(request: PageRequest) -> html.Div:
    api = request.api
    types = request.text("type")
    events = api.events(
        model=request.text("model"),
        types=types.split(",") if types else None,
        min_severity=request.text("severity"),
        offset=offset(request),
        limit=PAGE_SIZE,
    )
    deliveries = api.deliveries(
        status=request.text("dstatus"), event=None, offset=offset(request, "dpage"), limit=PAGE_SIZE
    )
    return html.Div(
        [
            html.H1("Events and deliveries"),
            _filters(request, api.model_names()),
            _events(request, events),
            _deliveries(request, deliveries),
        ]
    )


def _attempts(api: MonitorApi, delivery_id: int) -> Component:
    try:
        delivery = api.delivery(delivery_id)
    except ApiError as error:
        return notice(str(error), "error")
    rows = [
        [
            str(attempt["number"]),
            when(attempt["started_at"]),
            badge(attempt["outcome"]),
            str(attempt["status_code"] or "—"),
            f"{attempt['latency_ms']:.0f} ms" if attempt["latency_ms"] is not None else "—",
            attempt["error"] or "",
        ]
        for attempt in delivery["attempt_log"]
    ]
    return section(
        f"Attempts of delivery {delivery_id} ({delivery['channel']}, {delivery['event_type']})",
        table(["#", "started", "outcome", "status", "latency", "error"], rows)
        if rows
        else notice("No attempt yet."),
        id="attempts-panel",
    )


def register(app: Dash, api: MonitorApi) -> None:
    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input("events-model", "value"),
        Input("events-type", "value"),
        Input("events-severity", "value"),
        Input("deliveries-status", "value"),
        prevent_initial_call=True,
    )
    def filter_events(
        model: str | None, types: list[str] | None, severity: str | None, status: str | None
    ) -> str:
        return search(model=model, type=",".join(types or []), severity=severity, dstatus=status)

    @app.callback(
        Output("delivery-attempts", "children"),
        Input({"type": "delivery-attempts", "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def show_attempts(clicks: list[int | None]) -> Any:
        if not any(clicks):
            return no_update
        return _attempts(api, ctx.triggered_id["id"])

    @app.callback(
        Output("redeliver-result", "children"),
        Input({"type": "redeliver", "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def redeliver(clicks: list[int | None]) -> Any:
        if not any(clicks):
            return no_update
        delivery_id = ctx.triggered_id["id"]
        try:
            delivery = api.redeliver(delivery_id)
        except ApiError as error:
            return notice(f"Delivery {delivery_id} was not redelivered: {error}", "error")
        return notice(f"Delivery {delivery_id} is queued again ({delivery['status']}).", "ok")
