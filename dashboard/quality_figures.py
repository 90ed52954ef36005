"""Model-quality charts: realized and estimated quality per window with their intervals."""

from collections.abc import Sequence

from dashboard.figures import (
    CANARY,
    CURRENT,
    THRESHOLD,
    Figure,
    Json,
    base_figure,
    chart_title,
    judged,
    short_time,
    with_versions,
)


def model_quality(points: Sequence[Json], champions: Sequence[Json] = ()) -> Figure:
    """Realized (from labels) and estimated performance per window, each with its interval;
    the hover says which version each window judged, against which reference."""
    times = [short_time(p["window_end"]) for p in points]
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
    figure = base_figure(data, 300, title=chart_title(points[0]["metric"] if points else ""))
    return with_versions(figure, champions, [p["window_end"] for p in points])
