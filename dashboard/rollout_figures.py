"""Rollout charts: the canary's weight over time and each check in its own units."""

from collections.abc import Sequence

from dashboard.figures import CANARY, GRID, STABLE, THRESHOLD, Figure, Json, base_figure


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
    return base_figure([line], 260, yaxis={"range": [0, 105], "title": {"text": "canary %"}})


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
    return base_figure(data, max(220, 180 * len(names)), **layout)
