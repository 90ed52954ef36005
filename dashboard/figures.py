"""Plotly figures, each built from the API's JSON for one chart; no data is fetched here. This
module holds what every chart shares (layout, colours, version markers) and the events and
traffic charts; drift, quality and rollout charts live beside it (`drift_figures`,
`quality_figures`, `rollout_figures`).

Figures are plain dicts (`{"data", "layout"}`), which `dcc.Graph` draws as they are: building
`plotly.graph_objects` validates and deep-copies every property, a cost each page would pay.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

Json = dict[str, Any]
Figure = dict[str, Any]
REFERENCE, CURRENT = "#8c959f", "#0969da"
STABLE, CANARY = "#1a7f37", "#bf3989"
THRESHOLD = {"dash": "dash", "color": "#cf222e"}
SEVERITY = {"info": "#0969da", "warning": "#bf8700", "error": "#cf222e", "critical": "#82071e"}
GRID = {"gridcolor": "#eaeef2", "zerolinecolor": "#d0d7de", "automargin": True}
PROMOTION = {"dash": "dash", "color": "#57606a", "width": 1.5}
CHAR_PX = 7.0  # Plotly's 12 px tick font averages under 7 px a character
TILTED_AFTER = 8  # category labels Plotly lays flat; more are tilted


def base_figure(data: list[Json], height: int, **layout: Any) -> Figure:
    axes = {
        "xaxis": {**GRID, **layout.pop("xaxis", {})},
        "yaxis": {**GRID, **layout.pop("yaxis", {})},
    }
    return {
        "data": data,
        "layout": {
            "height": height,
            "margin": margins(data, {**axes, **layout}),
            "legend": {"orientation": "h", "y": 1.12},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            **axes,
            **layout,
        },
    }


def text_px(texts: Iterable[object]) -> int:
    """The width of the longest text in Plotly's 12 px font, rounded up."""
    return round(CHAR_PX * max((len(str(text)) for text in texts), default=0))


def margins(data: Sequence[Json], layout: Json) -> Json:
    """Room for the tick labels, axis and chart titles, legend and colour bar, sized before
    Plotly draws. Automargin stays on, but when a chart's margins already hold what it would
    push, Plotly draws the chart once instead of twice (it redraws the whole chart whenever
    its first margins fall short), half the time a page's charts take in the browser."""
    xaxis, yaxis = layout["xaxis"], layout["yaxis"]
    categories = yaxis.get("type") == "category"
    ticks = text_px(v for t in data for v in t.get("y", [])) if categories else 40
    titled = any(name.startswith("yaxis") and "title" in axis for name, axis in layout.items())
    left = 10 + max(ticks, 60 if titled else 0)
    # Date ticks take two lines, and the last can stand half its width past the axis's end.
    right, bottom = 40, 45
    if xaxis.get("type") == "category":
        labels = {v for t in data for v in t.get("x", [])}
        right, bottom = 10, 40
        if len(labels) > TILTED_AFTER:
            # Plotly tilts crowded labels by 30 degrees: half their width stands below the
            # axis, and the last one reaches past its end.
            bottom, right = bottom + text_px(labels) // 2, 40
    for bar in (t["colorbar"] for t in data if "colorbar" in t):
        right = max(right, 40 + text_px([bar["title"]["text"], *bar.get("ticktext", [])]), 115)
    legend = sum(1 for t in data if t.get("showlegend", True) and t.get("name")) > 1
    top = 45 if "title" in layout or legend else 30
    return {"l": left, "r": right, "t": top, "b": bottom}


def short_time(timestamp: str) -> str:
    return timestamp[:16].replace("T", " ")


def chart_title(text: str) -> Json:
    return {"text": text, "font": {"size": 13}}


def _moment(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


def version_label(version: str | None) -> str:
    """How a model version reads everywhere on the dashboard: `v2`; `—` for unversioned."""
    return f"v{version}" if version else "—"


def judged(point: Json) -> str:
    """Which version a window judged, against which reference (a hover line)."""
    reference = point.get("reference_id")
    against = f"reference #{reference}" if reference is not None else "no reference"
    version = point.get("model_version")
    return f"judged {version_label(version) if version else 'unversioned'} against {against}"


def with_versions(
    figure: Figure,
    champions: Sequence[Json],
    window_ends: Sequence[str],
    *,
    first_category: int | None = None,
) -> Figure:
    """A dashed vertical line, labelled `v{version}`, at each promotion (`champions`, the API's
    champion history) within the chart's windows (oldest first), from the first window's end
    to the last's. On a time axis it stands at the moment of the promotion; on a category axis
    (`first_category`: the index of the first window's category) between the last window the
    previous champion judged and the first window whose end is after the promotion."""
    if not champions or not window_ends:
        return figure
    ends = [_moment(end) for end in window_ends]
    shapes: list[Json] = []
    notes: list[Json] = []
    for change in champions:
        since = _moment(change["since"])
        if not ends[0] <= since < ends[-1]:
            continue
        if first_category is None:
            x: Any = change["since"][:19].replace("T", " ")
        else:
            after = next(i for i, end in enumerate(ends) if end > since)
            x = first_category + after - 0.5
        label = version_label(change["model_version"])
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": x,
                "x1": x,
                "y0": 0,
                "y1": 1,
                "line": PROMOTION,
                "layer": "above",
            }
        )
        notes.append(
            {
                "x": x,
                "xref": "x",
                "y": 1,
                "yref": "paper",
                "xanchor": "left",
                "yanchor": "top",
                "text": label,
                "showarrow": False,
                "font": {"size": 11, "color": PROMOTION["color"]},
                "bgcolor": "rgba(255, 255, 255, 0.85)",
                "hovertext": f"{label} champion since {change['since'][:16].replace('T', ' ')} "
                f"({change['source']})",
            }
        )
    layout = figure["layout"]
    layout["shapes"] = [*layout.get("shapes", []), *shapes]
    layout["annotations"] = [*layout.get("annotations", []), *notes]
    return figure


def events_timeline(events: Sequence[Json]) -> Figure:
    data = [
        {
            "type": "scatter",
            "name": severity,
            "x": [e["time"] for e in shown],
            "y": [e["type"] for e in shown],
            "mode": "markers",
            "marker": {"color": colour, "size": 10},
            "text": [e["model"] or "" for e in shown],
            "hovertemplate": "%{y} %{text}<br>%{x}<extra></extra>",
        }
        for severity, colour in SEVERITY.items()
        if (shown := [e for e in events if e["severity"] == severity])
    ]
    return base_figure(data, 260, yaxis={"type": "category"})


def sparkline(counts: Sequence[int], width: int = 120, height: int = 24) -> str:
    """Hourly counts as an inline SVG (a data URI): fifty of these cost nothing to draw."""
    peak = max(counts, default=0) or 1
    step = width / max(1, len(counts) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (count / peak) * (height - 4):.1f}"
        for i, count in enumerate(counts)
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<polyline fill="none" stroke="{CURRENT}" stroke-width="1.5" points="{points}"/></svg>'
    )
    return "data:image/svg+xml;utf8," + quote(svg)
