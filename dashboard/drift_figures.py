"""Drift charts: the columns-by-windows verdict map, distributions over time, reference against
current, cumulative shares, a test's statistic over time and SHAP importance."""

from collections.abc import Sequence

from dashboard.figures import (
    CURRENT,
    REFERENCE,
    THRESHOLD,
    Figure,
    Json,
    base_figure,
    chart_title,
    short_time,
    with_versions,
)


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
        "x": [short_time(w["window_end"]) for w in matrix["windows"]],
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
    figure = base_figure(
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
        "x": ["reference", *(short_time(w["window_end"]) for w in distribution["windows"])],
        "y": distribution["bins"],
        "colorscale": [[0, "#f6f8fa"], [1, CURRENT]],
        "zmin": 0,
        "colorbar": {"title": {"text": "share"}},
        "hovertemplate": "%{y}<br>%{x}: %{z:.1%}<extra></extra>",
    }
    figure = base_figure(
        [heatmap],
        320,
        title=chart_title(f"{distribution['column']} by window"),
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
    return base_figure(
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
    return base_figure(
        lines,
        320,
        title=chart_title(f"KS distance {cdf['ks_distance']:.3f}"),
        yaxis={"range": [0, 1], "title": {"text": "cumulative share"}},
    )


def statistic_over_time(series: Json, title: str, champions: Sequence[Json] = ()) -> Figure:
    points = series["points"]
    times = [short_time(p["window_end"]) for p in points]
    drifted = [p for p in points if p["drifted"]]
    figure = base_figure(
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
                "x": [short_time(p["window_end"]) for p in drifted],
                "y": [p["value"] for p in drifted],
                "mode": "markers",
                "marker": {"symbol": "x", "size": 10, "color": "#cf222e"},
            },
        ],
        300,
        title=chart_title(title),
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
    return base_figure(
        bars,
        max(240, 24 * len(rows) + 80),
        barmode="group",
        title=chart_title("mean |SHAP|"),
        yaxis={"type": "category", "autorange": "reversed"},
    )
