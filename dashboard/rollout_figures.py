"""Rollout charts: the canary's weight over time and each check in its own units."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class CheckUnits:
    """How a check reads: its axis title, and the canary's bound in the check's own units from
    the stable's value and the threshold (None where either is missing), with the rule in words."""

    axis: str
    bound: Callable[[float | None, float], float | None]
    rule: Callable[[float], str]


def _from_stable(
    combine: Callable[[float, float], float],
) -> Callable[[float | None, float], float | None]:
    return lambda stable, threshold: None if stable is None else combine(stable, threshold)


# The bound each check of `triggers.canary.analysis` holds the canary to.
CHECK_UNITS = {
    "error_rate": CheckUnits(
        "error rate",
        _from_stable(lambda stable, threshold: stable + threshold),
        lambda threshold: f"at most stable + {threshold * 100:g} points",
    ),
    "latency_p99": CheckUnits(
        "p99 latency (ms)",
        _from_stable(lambda stable, threshold: stable * threshold),
        lambda threshold: f"at most stable x{threshold:g}",
    ),
    "prediction_psi": CheckUnits(
        "prediction PSI",
        lambda _, threshold: threshold,
        lambda threshold: f"fails from PSI {threshold:g} (with p < 0.01)",
    ),
    "accuracy": CheckUnits(
        "accuracy",
        _from_stable(lambda stable, threshold: stable - threshold),
        lambda threshold: f"at least stable - {threshold:g}",
    ),
}
_UNKNOWN = CheckUnits(
    "", lambda _, threshold: threshold, lambda threshold: f"threshold {threshold:g}"
)


def check_bounds(checks: Sequence[Json]) -> list[float | None]:
    """Each check's bound for the canary, in the check's own units."""
    return [
        CHECK_UNITS.get(c["name"], _UNKNOWN).bound(c["stable_value"], c["threshold"])
        for c in checks
    ]


def rollout_checks(checks: Sequence[Json]) -> Figure:
    """Canary against stable on every check, one row of axes per check, each in its own units
    with the canary's bound dashed (relative thresholds, a latency ratio or an accuracy drop,
    become a bound on the check's own axis)."""
    names = sorted({c["name"] for c in checks})
    data: list[Json] = []
    layout: Json = {}
    height = 1 / max(1, len(names))
    for row, name in enumerate(names):
        axis = "" if row == 0 else str(row + 1)
        units = CHECK_UNITS.get(name, _UNKNOWN)
        shown = sorted((c for c in checks if c["name"] == name), key=lambda c: c["time"])
        times = [c["time"] for c in shown]
        series = [
            ("stable", [c["stable_value"] for c in shown], {"color": STABLE}, None),
            ("canary", [c["canary_value"] for c in shown], {"color": CANARY}, None),
            ("bound", check_bounds(shown), THRESHOLD, [units.rule(c["threshold"]) for c in shown]),
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
                "text": rules or [c["detail"] for c in shown],
                "hovertemplate": f"{label} %{{y:.4g}}<br>%{{text}}<extra>{name}</extra>",
            }
            for label, values, line, rules in series
        )
        bottom = 1 - (row + 1) * height
        layout[f"yaxis{axis}"] = {
            **GRID,
            "domain": [bottom + 0.06 * height, bottom + height - 0.12 * height],
            "title": {"text": units.axis or name, "font": {"size": 11}},
        }
        shared = {"matches": "x"} if row else {}
        layout[f"xaxis{axis}"] = {**GRID, "anchor": f"y{axis}", **shared}
    return base_figure(data, max(220, 180 * len(names)), **layout)
