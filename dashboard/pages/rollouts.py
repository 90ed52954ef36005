"""Canary rollouts of a model: weight over time, canary against stable on each check, and the
promote / pause / resume / abort buttons (they need a user signed in with an admin key)."""

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from dash.development.base_component import Component

from dashboard.client import ApiError, Json, MonitorApi
from dashboard.components import (
    PAGE_SIZE,
    PageRequest,
    badge,
    facts,
    graph,
    model_heading,
    notice,
    offset,
    option_link,
    pager,
    section,
    table,
    when,
)
from dashboard.rollout_figures import rollout_checks, rollout_weights

ACTIONS = ("promote", "pause", "resume", "abort")
ACTIVE = ("shadowing", "progressing", "paused")


def _list(request: PageRequest, model: str, page: Json, selected: int) -> html.Section:
    rows = [
        [
            option_link(
                f"#{rollout['id']}",
                request.href("rollouts", model=model, rollout=rollout["id"]),
                rollout["id"] == selected,
            ),
            badge(rollout["state"]),
            f"{rollout['stable_version'] or '—'} → {rollout['candidate_version']}",
            f"{rollout['weight']}%",
            when(rollout["created_at"]),
            when(rollout["finished_at"]),
        ]
        for rollout in page["data"]
    ]
    headers = ["rollout", "state", "versions", "canary", "started", "finished"]
    return section(
        f"{page['count']} rollouts",
        table(headers, rows, id="rollouts-table"),
        pager(request, "rollouts", page["count"]),
    )


def _summary(rollout: Json) -> html.Div:
    steps = ", ".join(
        f"[{step}]" if index == rollout["step_index"] else str(step)
        for index, step in enumerate(rollout["steps"])
    )
    shown: list[tuple[str, Any]] = [
        ("state", badge(rollout["state"])),
        ("canary weight", f"{rollout['weight']}%"),
        ("steps", steps),
        ("stable", f"{rollout['stable_endpoint'] or 'upstream'} v{rollout['stable_version']}"),
        ("candidate", f"{rollout['candidate_endpoint']} v{rollout['candidate_version']}"),
        ("failed checks", f"{rollout['failed_checks']} of {rollout['max_failed_checks']}"),
        ("reason", rollout["reason"] or "—"),
    ]
    return html.Div(facts(shown), id="rollout-summary")


def _actions(rollout: Json) -> html.Div:
    enabled = rollout["state"] in ACTIVE
    return html.Div(
        [
            *(
                html.Button(
                    action,
                    id={"type": "rollout-action", "action": action, "rollout": rollout["id"]},
                    className="action",
                    disabled=not enabled,
                    title="needs a session signed in with an admin key",
                )
                for action in ACTIONS
            ),
        ],
        className="actions",
    )


def _detail(api: MonitorApi, model: str, rollout: Json) -> list[Component]:
    checks = api.rollout_checks(model, rollout["id"])["data"]
    rows = [
        [
            when(check["time"]),
            f"{check['weight']}%",
            check["name"],
            _number(check["stable_value"]),
            _number(check["canary_value"]),
            _number(check["threshold"]),
            badge(check["outcome"]),
            f"{check['n_stable']} / {check['n_canary']}",
            check["detail"],
        ]
        for check in reversed(checks)
    ]
    headers = ["time", "weight", "check", "stable", "canary", "threshold", "", "n", "detail"]
    return [
        _actions(rollout),
        _summary(rollout),
        graph("rollout-weights", rollout_weights(rollout)),
        graph("rollout-checks", rollout_checks(checks))
        if checks
        else notice("No check has run yet."),
        table(headers, rows, id="checks-table") if rows else html.Div(),
    ]


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def layout(request: PageRequest) -> html.Div:
    api = request.api
    parts, model = model_heading(request, "Rollouts")
    if model is None:
        return html.Div(parts)
    try:
        page = api.rollouts(model, offset=offset(request), limit=PAGE_SIZE)
    except ApiError as error:
        if error.status != 404:
            raise
        page = {"data": [], "count": 0}  # a control plane without the rollouts API
    if not page["count"]:
        return html.Div([*parts, notice(f"No rollouts for {model}.", "empty")])
    chosen = request.number("rollout", page["data"][0]["id"])
    rollout = next((r for r in page["data"] if r["id"] == chosen), page["data"][0])
    parts.append(_list(request, model, page, rollout["id"]))
    parts.append(
        section(
            f"Rollout #{rollout['id']}",
            html.Div(id="rollout-action-result", className="action-result"),
            html.Div(_detail(api, model, rollout), id="rollout-detail"),
            id="rollout-section",
        )
    )
    return html.Div(parts)


def register(app: Dash, api: MonitorApi) -> None:
    @app.callback(
        Output("rollout-action-result", "children"),
        Output("rollout-detail", "children"),
        Input({"type": "rollout-action", "action": ALL, "rollout": ALL}, "n_clicks"),
        State({"type": "model-picker"}, "value"),
        prevent_initial_call=True,
    )
    def act(clicks: list[int | None], model: str) -> Any:
        if not any(clicks):
            return no_update, no_update
        action, rollout_id = ctx.triggered_id["action"], ctx.triggered_id["rollout"]
        try:
            rollout = api.rollout_action(model, rollout_id, action)
        except ApiError as error:
            return notice(f"{action} refused: {error}", "error"), no_update
        message = notice(f"Rollout #{rollout_id} is now {rollout['state']}.", "ok")
        return message, _detail(api, model, rollout)
