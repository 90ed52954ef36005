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

# Colour: the verdict picks the hue, the effect size (over its floor) the shade. Quiet cells
# span 0 to 0.5 (white to grey), drifted ones 0.5 to 1 (pink to dark red).
VERDICT_SCALE = [[0, "#ffffff"], [0.4999, "#8c959f"], [0.5, "#ffb3a7"], [1, "#a40e26"]]
QUIET_SHADE_AT = 2.0  # effect / floor at which a quiet cell is darkest
DRIFTED_SHADE_AT = 4.0  # and a drifted one


def _cell_colour(
    value: float | None, threshold: float | None, drifted: bool | None
) -> float | None:
    if value is None or drifted is None:
        return None
    ratio = value / threshold if threshold else (1.0 if drifted else 0.0)
    if drifted:
        return 0.5 + 0.5 * min(ratio / DRIFTED_SHADE_AT, 1.0)
    return 0.4999 * min(max(ratio, 0.0) / QUIET_SHADE_AT, 1.0)


def _p_text(value: float) -> str:
    return f"{value:.2g}"


def cell_verdict(row: Json, index: int) -> str:
    """The cell's verdict in words: the effect against its floor, and, where the effect was
    large enough, what else kept it quiet (p-value, multiple-testing correction, sample size)."""
    value, threshold = row["values"][index], row["thresholds"][index]
    if value is None:
        return "not tested"
    n = row["sample_sizes"][index]
    p, adjusted = row["p_values"][index], row["adjusted_p_values"][index]
    level = row["p_value_thresholds"][index]
    effect = f"{row['test']} effect {value:.4g}, floor {threshold:.4g}" if threshold else ""
    sized = f" (n = {n:,})" if n is not None else ""
    tested = f"p {_p_text(adjusted)} < {level:g}" if adjusted is not None and level else ""
    if row["drifted"][index]:
        return f"drifted: {effect}{sized}" + (f"; {tested}" if tested else "")
    if threshold is not None and value < threshold:
        reason = f"not drifted: the effect is under the floor{sized}"
        if p is not None and level and p < level:
            reason += f"; p = {_p_text(p)} is significant but the difference is too small to matter"
        return f"{reason}<br>{effect}"
    reason = f"not counted: the effect passes the floor but {_significance(p, adjusted, level, n)}"
    note = row["messages"][index]
    return f"{reason}<br>{effect}" + (f"<br>{note}" if note else "")


def _significance(
    p: float | None, adjusted: float | None, level: float | None, n: int | None
) -> str:
    if adjusted is None or level is None:
        return "the test gives no p-value to confirm it"
    few = f" with only {n:,} rows" if n is not None else ""
    if p is not None and p < level <= adjusted:
        return (
            f"p = {_p_text(p)} becomes {_p_text(adjusted)} after the Benjamini-Hochberg "
            f"correction over the model's columns, not below {level:g}"
        )
    return f"p = {_p_text(adjusted)} is not below {level:g}{few}: it may be chance"


def drift_heatmap(matrix: Json, champions: Sequence[Json] = ()) -> Figure:
    """Columns by windows, coloured by the verdict (red: drifted) and shaded by the effect size
    over its floor; the hover says why, and why a large effect did not count."""
    rows = matrix["rows"]
    colours, marks, hover = [], [], []
    for row in rows:
        cells = range(len(row["values"]))
        colours.append(
            [_cell_colour(row["values"][i], row["thresholds"][i], row["drifted"][i]) for i in cells]
        )
        marks.append(["✕" if drifted else "" for drifted in row["drifted"]])
        hover.append([cell_verdict(row, i) for i in cells])
    heatmap = {
        "type": "heatmap",
        "z": colours,
        "x": [short_time(w["window_end"]) for w in matrix["windows"]],
        "y": [row["feature"] for row in rows],
        "text": marks,
        "texttemplate": "%{text}",
        "customdata": hover,
        "hovertemplate": "%{y} at %{x}<br>%{customdata}<extra></extra>",
        "colorscale": VERDICT_SCALE,
        "zmin": 0,
        "zmax": 1,
        "colorbar": {
            "title": {"text": "verdict, shaded by effect / floor"},
            "tickvals": [0.0, 0.25, 0.5, 1.0],
            "ticktext": [
                "no effect",
                "not drifted",
                "drifted",
                f"effect {DRIFTED_SHADE_AT:g}x floor",
            ],
        },
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
