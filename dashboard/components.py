"""Pieces every page uses: the request it renders, links, pagers, tables, badges, notices."""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from dash import dcc, html
from dash.development.base_component import Component

from dashboard.client import ApiError, MonitorApi

PAGE_SIZE = 20

HEALTH_COLOURS = {
    "ok": "#1a7f37",
    "drifting": "#bf8700",
    "failing": "#cf222e",
    "no_data": "#6e7781",
    "succeeded": "#1a7f37",
    "delivered": "#1a7f37",
    "passed": "#1a7f37",
    "promoted": "#1a7f37",
    "active": "#1a7f37",
    "superseded": "#6e7781",
    "failed": "#cf222e",
    "dead": "#cf222e",
    "rolled_back": "#cf222e",
    "critical": "#cf222e",
    "error": "#cf222e",
    "warning": "#bf8700",
    "paused": "#bf8700",
    "inconclusive": "#bf8700",
    "aborted": "#6e7781",
}


@dataclass(frozen=True)
class PageRequest:
    """What a page renders from: the API, where the dashboard is served, the query string."""

    api: MonitorApi
    prefix: str
    query: dict[str, str]

    def href(self, path: str, **query: object) -> str:
        """A dashboard link; `path` is relative to its root; None query values are left out."""
        return f"{self.prefix}{path.lstrip('/')}{search(**query)}"

    def text(self, name: str) -> str | None:
        return self.query.get(name) or None

    def number(self, name: str, default: int = 1) -> int:
        value = self.query.get(name, "")
        return int(value) if value.isdigit() and int(value) > 0 else default

    def chosen(self, name: str, options: Sequence[str], default: str) -> str:
        """The query's `name` where it is one of `options`, else `default`."""
        asked = self.text(name)
        return asked if asked is not None and asked in options else default


def search(**query: object) -> str:
    """A query string (`?a=1`, or empty), leaving out None and empty values."""
    kept = {name: value for name, value in query.items() if value not in (None, "")}
    return f"?{urlencode(kept)}" if kept else ""


def segment(name: str) -> str:
    return quote(name, safe="")


def gather(**calls: Callable[[], Any]) -> dict[str, Any]:
    """Run independent API calls at the same time; a failed one yields its ApiError."""

    def attempt(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except ApiError as error:
            return error

    with ThreadPoolExecutor(max_workers=min(8, len(calls) or 1)) as pool:
        # Each call runs in a copy of this request's context: the signed-in key goes with it.
        futures = {
            name: pool.submit(copy_context().run, attempt, call) for name, call in calls.items()
        }
        return {name: future.result() for name, future in futures.items()}


def graph(id: str, figure: Any) -> dcc.Graph:
    return dcc.Graph(id=id, figure=figure, config={"displayModeBar": False})


def notice(message: str, kind: str = "info") -> html.Div:
    return html.Div(message, className=f"notice notice-{kind}")


def badge(status: str | None) -> html.Span:
    label = status or "—"
    colour = HEALTH_COLOURS.get(label, "#57606a")
    return html.Span(label.replace("_", " "), className="badge", style={"backgroundColor": colour})


def section(title: str, *children: Component | str, id: str | None = None) -> html.Section:
    attributes: dict[str, Any] = {"id": id} if id else {}
    return html.Section([html.H2(title), *children], className="panel", **attributes)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], id: str | None = None) -> Any:
    attributes: dict[str, Any] = {"id": id} if id else {}
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in headers])),
            html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows]),
        ],
        className="grid",
        **attributes,
    )


def pager(request: PageRequest, path: str, total: int, param: str = "page") -> html.Nav:
    """Previous / next links over `total` items, PAGE_SIZE a page, kept in the query string."""
    page = request.number(param)
    pages = max(1, -(-total // PAGE_SIZE))
    first, last = (page - 1) * PAGE_SIZE + 1, min(page * PAGE_SIZE, total)

    def link(label: str, target: int, enabled: bool) -> Component:
        if not enabled:
            return html.Span(label, className="pager-off")
        query = {**request.query, param: str(target)}
        return dcc.Link(label, href=request.href(path, **query), className=f"pager-{label}")

    return html.Nav(
        [
            link("previous", page - 1, page > 1),
            html.Span(f"{first}-{last} of {total}" if total else "none", className="pager-count"),
            link("next", page + 1, page < pages),
        ],
        className="pager",
        id=f"pager-{param}",
    )


def offset(request: PageRequest, param: str = "page") -> int:
    return (request.number(param) - 1) * PAGE_SIZE


def when(timestamp: str | None) -> str:
    """An API timestamp, shortened to minutes in UTC."""
    return timestamp[:16].replace("T", " ") if timestamp else "—"


def option_link(label: str, href: str, active: bool) -> dcc.Link:
    """One of a list of links to choose from; the chosen one is marked `active`."""
    return dcc.Link(label, href=href, className="active" if active else "")


def facts(pairs: Sequence[tuple[str, Any]]) -> html.Dl:
    """A record's facts as a definition list: each name, then its value."""
    return html.Dl([item for name, value in pairs for item in (html.Dt(name), html.Dd(value))])


def model_heading(request: PageRequest, title: str) -> tuple[list[Component], str | None]:
    """A per-model page's title and model dropdown (the shell turns a choice into `?model=`),
    and the model shown: the one in the query string, else the first. With no model
    registered, None, and the heading ends with a notice saying so."""
    models = request.api.model_names()
    chosen = request.chosen("model", models, models[0]) if models else None
    picker = dcc.Dropdown(
        models,
        chosen,
        id={"type": "model-picker"},
        clearable=False,
        placeholder="no model registered",
    )
    heading: list[Component] = [
        html.H1(title),
        html.Div(picker, id="model-picker", className="narrow"),
    ]
    if chosen is None:
        heading.append(notice("No models are registered yet."))
    return heading, chosen
