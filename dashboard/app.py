"""The Dash app: the shell (navigation), the router, and the report proxy.

`create_dashboard` builds everything; nothing is fetched or connected at import time.
"""

import logging
from urllib.parse import parse_qsl, unquote

from cryptography.fernet import MultiFernet
from dash import Dash, Input, Output, State, dcc, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from flask import Response

from dashboard.client import ApiError, MonitorApi
from dashboard.components import PageRequest, notice, search
from dashboard.pages import events, feature, model, overview, retraining, rollouts
from dashboard.signin import install_sign_in, signed_in_key
from dashboard.style import STYLE

log = logging.getLogger(__name__)

NAVIGATION = (
    ("", "Overview"),
    ("events", "Events"),
    ("retraining", "Retraining"),
    ("rollouts", "Rollouts"),
)


def _shell(prefix: str) -> html.Div:
    return html.Div(
        [
            dcc.Location(id="url", refresh="callback-nav"),
            html.Header(
                [
                    html.Nav(
                        [dcc.Link(label, href=f"{prefix}{path}") for path, label in NAVIGATION],
                        className="topnav",
                    ),
                    html.A("switch key", href=f"{prefix}signin", className="switch-key"),
                ]
            ),
            dcc.Loading(html.Main(id="page"), delay_show=300),
            html.Div(id="charting-preload", style={"display": "none"}),
        ]
    )


def route(request: PageRequest, path: str) -> Component:
    """The page at `path` (relative to the dashboard's root, no slashes around it)."""
    parts = [unquote(part) for part in path.split("/")] if path else []
    match parts:
        case []:
            return overview.layout(request)
        case ["models", name]:
            return model.layout(request, name)
        case ["models", name, "features", column]:
            return feature.layout(request, name, column)
        case ["events"]:
            return events.layout(request)
        case ["retraining"]:
            return retraining.layout(request)
        case ["rollouts"]:
            return rollouts.layout(request)
    return notice(f"There is no page at /{path}.", "error")


def create_dashboard(
    api_url: str,
    api_key: str | None,
    *,
    path_prefix: str = "/",
    timeout: float = 10.0,
    sessions: MultiFernet | None = None,
    session_seconds: int = 8 * 3600,
) -> Dash:
    """The dashboard reading the API at `api_url`, served to browsers under `path_prefix`
    (e.g. `/dashboard/` when mounted in `monitor serve`). With `sessions`, users sign in with
    a key of theirs and every read and action runs with it; otherwise all use `api_key` (the
    operator's, for `python -m dashboard` on a trusted machine)."""
    api = MonitorApi(api_url, signed_in_key if sessions else lambda: api_key, timeout)
    app = Dash(
        __name__,
        requests_pathname_prefix=path_prefix,
        routes_pathname_prefix="/",
        title="Model monitor",
        update_title="",
        suppress_callback_exceptions=True,
        assets_folder="no-assets",
    )
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + STYLE + "</style>")
    app.layout = _shell(path_prefix)
    if sessions is not None:
        install_sign_in(
            app.server, api, sessions, prefix=path_prefix, session_seconds=session_seconds
        )

    @app.callback(Output("page", "children"), Input("url", "pathname"), Input("url", "search"))
    def render(pathname: str | None, query: str | None) -> Component:
        request = PageRequest(api, path_prefix, dict(parse_qsl((query or "").lstrip("?"))))
        path = (pathname or path_prefix).removeprefix(path_prefix.rstrip("/")).strip("/")
        try:
            return route(request, path)
        except ApiError as error:
            log.warning("page %s: %s", path, error)
            return notice(str(error), "error")

    @app.callback(
        Output("charting-preload", "children"),
        Input("page", "children"),
        State("charting-preload", "children"),
    )
    def preload_charting(_: object, loaded: object) -> Component:
        """Once the first page shows, an empty hidden chart makes the browser load the charting
        library, so the first page with a chart does not wait for it."""
        if loaded:
            raise PreventUpdate
        return dcc.Graph(figure={"data": []})

    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input({"type": "model-picker"}, "value"),
        prevent_initial_call=True,
    )
    def pick_model(name: str | None) -> str:
        return search(model=name)

    events.register(app, api)
    model.register(app, api)
    rollouts.register(app, api)

    @app.server.route("/reports/<name>/<int:run_id>")
    def report(name: str, run_id: int) -> Response:
        """Evidently's report of a run, fetched with the user's key (a link straight to the
        API would lack it)."""
        try:
            return Response(api.run_report(name, run_id), mimetype="text/html")
        except ApiError as error:
            return Response(str(error), status=error.status or 502, mimetype="text/plain")

    return app
