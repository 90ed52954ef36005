"""One column of a model: reference against current distribution, both CDFs with the KS
distance, and its drift statistic over time against the threshold, promotions marked."""

from dash import dcc, html
from dash.development.base_component import Component

from dashboard.client import ApiError
from dashboard.components import PageRequest, gather, graph, notice, section, segment
from dashboard.drift_figures import cumulative, reference_against_current, statistic_over_time


def layout(request: PageRequest, model: str, feature: str) -> html.Div:
    api = request.api
    monitors = api.monitors(model)
    if not monitors:
        return html.Div([html.H1(feature), notice(f"Model {model!r} has no monitor yet.")])
    names = [m["name"] for m in monitors]
    monitor = request.chosen("monitor", names, names[0])
    found = gather(
        distribution=lambda: api.distribution(model, monitor, feature, windows=1),
        series=lambda: api.series(model, monitor, feature, field="effect_size"),
        champions=lambda: api.champions(model),
    )
    distribution, series = found["distribution"], found["series"]
    champions = found["champions"]
    promotions = [] if isinstance(champions, ApiError) else champions
    back = dcc.Link(f"← {model}", href=request.href(f"models/{segment(model)}", monitor=monitor))
    parts: list[Component] = [back, html.H1(feature, id="feature-title")]
    if isinstance(distribution, ApiError):
        parts.append(section("Distribution", notice(str(distribution), "error")))
    else:
        latest = distribution["windows"][-1] if distribution["windows"] else None
        parts.append(
            html.P(
                f"{distribution['kind']} column; reference n={distribution['n_reference']}, "
                + (
                    f"latest window ending {latest['window_end'][:16]} n={latest['n']}"
                    if latest
                    else "no succeeded window yet"
                ),
                id="feature-summary",
            )
        )
        charts = [graph("feature-histogram", reference_against_current(distribution))]
        if distribution["cdf"] is not None:
            charts.append(graph("feature-cdf", cumulative(distribution)))
        parts.append(
            section("Reference against current", html.Div(charts, className="two-columns"))
        )
    if isinstance(series, ApiError):
        parts.append(section("Statistic over time", notice(str(series))))
    else:
        parts.append(
            section(
                "Statistic over time",
                graph(
                    "feature-series",
                    statistic_over_time(
                        series, f"{series['test']} effect size", champions=promotions
                    ),
                ),
            )
        )
    return html.Div(parts)
