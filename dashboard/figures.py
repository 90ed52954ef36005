"""Plotly figures, each built from the API's JSON for one chart; no data is fetched here.

Figures are plain dicts (`{"data", "layout"}`), which `dcc.Graph` draws as they are: building
`plotly.graph_objects` validates and deep-copies every property, a cost each page would pay.
"""

from collections.abc import Sequence
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


def _figure(data: list[Json], height: int, **layout: Any) -> Figure:
    axes = {
        "xaxis": {**GRID, **layout.pop("xaxis", {})},
        "yaxis": {**GRID, **layout.pop("yaxis", {})},
    }
    return {
        "data": data,
        "layout": {
            "height": height,
            "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
            "legend": {"orientation": "h", "y": 1.12},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            **axes,
            **layout,
        },
    }


def _short(timestamp: str) -> str:
    return timestamp[:16].replace("T", " ")


def _title(text: str) -> Json:
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


def drift_heatmap(matrix: Json, champions: Sequence[Json] = ()) -> Figure:
    """Columns by windows, coloured by the statistic over its threshold (1 = the threshold, so
    tests of different scales compare), drifted cells marked with a cross."""
    rows = matrix["rows"]
    ratios, marks, hover = [], [], []
    for row in rows:
        pairs = list(zip(row["values"], row["thresholds"], strict=True))
        ratios.append([v / t if v is not None and t else None for v, t in pairs])
        marks.append(["✕" if drifted else "" for drifted in row["drifted"]])
        hover.append(
            [
                f"{row['test']} {v:.4g} (threshold {t:.4g})"
                if v is not None and t is not None
                else "not tested"
                for v, t in pairs
            ]
        )
    heatmap = {
        "type": "heatmap",
        "z": ratios,
        "x": [_short(w["window_end"]) for w in matrix["windows"]],
        "y": [row["feature"] for row in rows],
        "text": marks,
        "texttemplate": "%{text}",
        "customdata": hover,
        "hovertemplate": "%{y} at %{x}<br>%{customdata}<extra></extra>",
        "colorscale": [[0, "#f6f8fa"], [0.5, "#fff8c5"], [0.5001, "#ffb3a7"], [1, "#a40e26"]],
        "zmin": 0,
        "zmax": 2,
        "colorbar": {"title": {"text": "statistic / threshold"}},
    }
    figure = _figure(
        [heatmap],
        max(260, 22 * len(rows) + 80),
        xaxis={"type": "category"},
        yaxis={"type": "category", "autorange": "reversed"},
    )
    ends = [w["window_end"] for w in matrix["windows"]]
    return with_versions(figure, champions, ends, first_category=0)


def distribution_over_time(distribution: Json, champions: Sequence[Json] = ()) -> Figure:
    """Share of each bin (or class) in the reference, then in every window."""
    shares = [distribution["reference"], *(w["shares"] for w in distribution["windows"])]
    heatmap = {
        "type": "heatmap",
        "z": [list(row) for row in zip(*shares, strict=True)],
        "x": ["reference", *(_short(w["window_end"]) for w in distribution["windows"])],
        "y": distribution["bins"],
        "colorscale": [[0, "#f6f8fa"], [1, CURRENT]],
        "zmin": 0,
        "colorbar": {"title": {"text": "share"}},
        "hovertemplate": "%{y}<br>%{x}: %{z:.1%}<extra></extra>",
    }
    figure = _figure(
        [heatmap],
        320,
        title=_title(f"{distribution['column']} by window"),
        xaxis={"type": "category"},
        yaxis={"type": "category"},
    )
    ends = [w["window_end"] for w in distribution["windows"]]
    return with_versions(figure, champions, ends, first_category=1)  # after "reference"


def reference_against_current(distribution: Json) -> Figure:
    """Bars per reference bin or category: the reference beside the newest window."""
    bars = [
        {
            "type": "bar",
            "name": "reference",
            "x": distribution["bins"],
            "y": distribution["reference"],
            "marker": {"color": REFERENCE},
        }
    ]
    if distribution["windows"]:
        latest = distribution["windows"][-1]
        bars.append(
            {
                "type": "bar",
                "name": f"current (n={latest['n']})",
                "x": distribution["bins"],
                "y": latest["shares"],
                "marker": {"color": CURRENT},
            }
        )
    return _figure(
        bars,
        320,
        barmode="group",
        xaxis={"type": "category"},
        yaxis={"tickformat": ".0%", "title": {"text": "share"}},
    )


def cumulative(distribution: Json) -> Figure:
    cdf = distribution["cdf"]
    lines = [
        {
            "type": "scatter",
            "name": name,
            "x": cdf["x"],
            "y": cdf[name],
            "line": {"shape": "hv", "color": colour},
        }
        for name, colour in (("reference", REFERENCE), ("current", CURRENT))
    ]
    return _figure(
        lines,
        320,
        title=_title(f"KS distance {cdf['ks_distance']:.3f}"),
        yaxis={"range": [0, 1], "title": {"text": "cumulative share"}},
    )


def statistic_over_time(series: Json, title: str, champions: Sequence[Json] = ()) -> Figure:
    points = series["points"]
    times = [_short(p["window_end"]) for p in points]
    drifted = [p for p in points if p["drifted"]]
    figure = _figure(
        [
            {
                "type": "scatter",
                "name": series["test"],
                "x": times,
                "y": [p["value"] for p in points],
                "mode": "lines+markers",
                "line": {"color": CURRENT},
            },
            {
                "type": "scatter",
                "name": "threshold",
                "x": times,
                "y": [p["threshold"] for p in points],
                "mode": "lines",
                "line": THRESHOLD,
            },
            {
                "type": "scatter",
                "name": "drifted",
                "x": [_short(p["window_end"]) for p in drifted],
                "y": [p["value"] for p in drifted],
                "mode": "markers",
                "marker": {"symbol": "x", "size": 10, "color": "#cf222e"},
            },
        ],
        300,
        title=_title(title),
    )
    return with_versions(figure, champions, [p["window_end"] for p in points])


def shap_importance(results: Sequence[Json]) -> Figure:
    """Mean |SHAP| per feature in the reference and in the window (rows test `mean_abs_shap`:
    statistic is the window's, effect size the shift from the reference)."""
    rows = [r for r in results if r["test"] == "mean_abs_shap" and r["statistic"] is not None]
    features = [r["feature"] for r in rows]
    bars = [
        {
            "type": "bar",
            "orientation": "h",
            "name": name,
            "y": features,
            "x": values,
            "marker": {"color": colour},
        }
        for name, values, colour in (
            ("reference", [r["statistic"] - (r["effect_size"] or 0.0) for r in rows], REFERENCE),
            ("current", [r["statistic"] for r in rows], CURRENT),
        )
    ]
    return _figure(
        bars,
        max(240, 24 * len(rows) + 80),
        barmode="group",
        title=_title("mean |SHAP|"),
        yaxis={"type": "category", "autorange": "reversed"},
    )


def model_quality(points: Sequence[Json], champions: Sequence[Json] = ()) -> Figure:
    """Realized (from labels) and estimated performance per window, each with its interval;
    the hover says which version each window judged, against which reference."""
    times = [_short(p["window_end"]) for p in points]
    judgements = [judged(p) for p in points]
    data: list[Json] = []
    for name, colour in (("realized", CURRENT), ("estimated", CANARY)):
        data.append(
            {
                "type": "scatter",
                "x": times + times[::-1],
                "y": [p[f"{name}_high"] for p in points] + [p[f"{name}_low"] for p in points][::-1],
                "fill": "toself",
                "line": {"width": 0},
                "fillcolor": colour,
                "opacity": 0.15,
                "hoverinfo": "skip",
                "showlegend": False,
            }
        )
        data.append(
            {
                "type": "scatter",
                "name": name,
                "x": times,
                "y": [p[name] for p in points],
                "mode": "lines+markers",
                "line": {"color": colour},
                "text": judgements,
                "hovertemplate": f"{name} %{{y:.4g}}<br>%{{x}}<br>%{{text}}<extra></extra>",
            }
        )
    data.append(
        {
            "type": "scatter",
            "name": "lower bound",
            "x": times,
            "y": [p["lower_bound"] for p in points],
            "mode": "lines",
            "line": THRESHOLD,
        }
    )
    figure = _figure(data, 300, title=_title(points[0]["metric"] if points else ""))
    return with_versions(figure, champions, [p["window_end"] for p in points])


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
    return _figure(data, 260, yaxis={"type": "category"})


def rollout_weights(rollout: Json) -> Figure:
    """The canary's weight at each transition, held until the next one."""
    transitions = rollout["transitions"]
    times = [t["time"] for t in transitions]
    weights = [t["weight"] for t in transitions]
    if rollout["finished_at"] is None and transitions:
        times.append(rollout["updated_at"])
        weights.append(rollout["weight"])
    line = {
        "type": "scatter",
        "name": "canary weight",
        "x": times,
        "y": weights,
        "mode": "lines+markers",
        "line": {"shape": "hv", "color": CANARY},
        "text": [t["state"] for t in transitions],
    }
    return _figure([line], 260, yaxis={"range": [0, 105], "title": {"text": "canary %"}})


def rollout_checks(checks: Sequence[Json]) -> Figure:
    """Canary against stable on every check, one row of axes per check name, threshold dashed."""
    names = sorted({c["name"] for c in checks})
    data: list[Json] = []
    layout: Json = {}
    height = 1 / max(1, len(names))
    for row, name in enumerate(names):
        axis = "" if row == 0 else str(row + 1)
        shown = sorted((c for c in checks if c["name"] == name), key=lambda c: c["time"])
        times = [c["time"] for c in shown]
        series = [
            ("stable", [c["stable_value"] for c in shown], {"color": STABLE}),
            ("canary", [c["canary_value"] for c in shown], {"color": CANARY}),
            ("threshold", [c["threshold"] for c in shown], THRESHOLD),
        ]
        data.extend(
            {
                "type": "scatter",
                "name": label,
                "legendgroup": label,
                "showlegend": row == 0,
                "x": times,
                "y": values,
                "mode": "lines+markers",
                "line": line,
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
            }
            for label, values, line in series
        )
        bottom = 1 - (row + 1) * height
        layout[f"yaxis{axis}"] = {
            **GRID,
            "domain": [bottom + 0.06 * height, bottom + height - 0.12 * height],
            "title": {"text": name, "font": {"size": 11}},
        }
        shared = {"matches": "x"} if row else {}
        layout[f"xaxis{axis}"] = {**GRID, "anchor": f"y{axis}", **shared}
    return _figure(data, max(220, 180 * len(names)), **layout)


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
