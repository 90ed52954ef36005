"""One model: drift heatmap, prediction distribution, SHAP attribution, data quality, model
quality, its runs with their Evidently reports, and its references. Every time chart marks each
promotion of a new champion version."""

from collections.abc import Callable
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update

from dashboard.client import ApiError, Json, MonitorApi
from dashboard.components import (
    PAGE_SIZE,
    PageRequest,
    badge,
    gather,
    graph,
    notice,
    offset,
    option_link,
    pager,
    section,
    segment,
    table,
    when,
)
from dashboard.drift_figures import (
    distribution_over_time,
    drift_heatmap,
    shap_importance,
    statistic_over_time,
)
from dashboard.figures import version_label
from dashboard.quality_figures import model_quality

HEATMAP_WINDOWS = 30
DISTRIBUTION_WINDOWS = 12
ATTRIBUTION = "__attribution__"  # the column the monitor's NDCG verdict is stored under


def _output_column(matrix: Json) -> str:
    """The score column when the model sends scores, else the predicted class or value."""
    outputs = [row["feature"] for row in matrix["rows"] if row["role"] == "prediction"]
    scores = [name for name in outputs if name.startswith("score[")]
    chosen: str = (scores or outputs or ["prediction"])[0]
    return chosen


def _heatmap(
    request: PageRequest, model: str, monitor: str, matrix: Json, champions: list[Json]
) -> html.Section:
    if not matrix["windows"]:
        return section("Drift", notice(f"Monitor {monitor!r} has no succeeded run yet."))
    drifted = [row["feature"] for row in matrix["rows"] if row["drifted"][-1]]
    links = [
        dcc.Link(
            row["feature"],
            href=request.href(
                f"models/{segment(model)}/features/{segment(row['feature'])}", monitor=monitor
            ),
            className="feature-link drifted" if row["feature"] in drifted else "feature-link",
        )
        for row in matrix["rows"]
    ]
    return section(
        f"Drift over the last {len(matrix['windows'])} windows",
        html.P(
            f"{len(drifted)} of {len(matrix['rows'])} columns drifted in the latest window. "
            "Click a cell or a column name for its distributions."
        ),
        graph("drift-heatmap", drift_heatmap(matrix, champions)),
        html.Div(links, className="feature-links", id="feature-links"),
        id="drift-section",
    )


def _attribution(
    run: Json | ApiError, ndcg: Json | ApiError, champions: list[Json]
) -> html.Section:
    if isinstance(ndcg, ApiError) or isinstance(run, ApiError):
        return section(
            "SHAP attribution",
            notice(
                "No SHAP attribution results: set shap_sample_size and explain_model_uri on "
                "the monitor to compare feature importance with the reference."
            ),
        )
    return section(
        "SHAP attribution",
        html.Div(
            [
                graph("shap-importance", shap_importance(run["results"])),
                graph(
                    "ndcg-series",
                    statistic_over_time(ndcg, "NDCG of the importance ranking", champions),
                ),
            ],
            className="two-columns",
        ),
    )


def _data_quality(run: Json | ApiError) -> html.Section:
    if isinstance(run, ApiError):
        return section("Data quality", notice("No succeeded run yet."))
    rows = [
        [
            check["feature"],
            check["check"],
            f"{check['share']:.2%}",
            f"{check['threshold']:.2%}",
            badge("failed" if check["failed"] else "passed"),
        ]
        for check in sorted(run["quality"], key=lambda c: (not c["failed"], c["feature"]))
    ]
    failed = sum(1 for check in run["quality"] if check["failed"])
    return section(
        "Data quality",
        html.P(f"Latest window ({when(run['window_end'])}): {failed} failed checks."),
        html.Div(
            table(["column", "check", "share", "threshold", ""], rows, id="quality-table"),
            className="scroll",
        ),
    )


def _model_quality(quality: Json | ApiError, champions: list[Json]) -> html.Section:
    if isinstance(quality, ApiError) or not quality["data"]:
        return section("Model quality", notice("No realized or estimated performance yet."))
    return section(
        "Model quality", graph("quality-series", model_quality(quality["data"], champions))
    )


def _reference(reference_id: int | None) -> str:
    return f"#{reference_id}" if reference_id is not None else "—"


def _references(references: list[Json] | ApiError) -> html.Section:
    """The model's references, newest first: which version each validates, and whether it is
    still the one in use."""
    if isinstance(references, ApiError):
        return section("References", notice(str(references), "error"), id="references-section")
    if not references:
        return section("References", notice("No reference uploaded yet."), id="references-section")
    rows = [
        [
            _reference(reference["id"]),
            version_label(reference["model_version"]),
            reference["source"]
            + (
                f" (retraining run #{reference['retraining_run_id']})"
                if reference["retraining_run_id"] is not None
                else ""
            ),
            str(reference["row_count"]),
            "yes" if reference["has_labels"] else "no",
            when(reference["created_at"]),
            badge(reference["status"]),
        ]
        for reference in references
    ]
    headers = ["reference", "version", "source", "rows", "labelled", "uploaded at", "status"]
    return section(
        "References",
        html.Div(table(headers, rows, id="references-table"), className="scroll"),
        id="references-section",
    )


def _runs(request: PageRequest, model: str, monitor: str, runs: Json) -> html.Section:
    rows = [
        [
            str(run["id"]),
            when(run["window_end"]),
            version_label(run["model_version"]),
            _reference(run["reference_id"]),
            badge(run["status"]),
            str(run["rows"]),
            f"{run['drifted_features']}/{run['tested_features']}",
            run["trigger"],
            html.A(
                "report",
                href=request.href(f"reports/{segment(model)}/{run['id']}"),
                target="_blank",
            )
            if run["status"] == "succeeded"
            else (run["error"] or "")[:80],
        ]
        for run in runs["data"]
    ]
    headers = [
        "run",
        "window end",
        "version",
        "reference",
        "status",
        "rows",
        "drifted",
        "trigger",
        "Evidently",
    ]
    return section(
        "Runs",
        table(headers, rows, id="runs-table"),
        pager(request, f"models/{segment(model)}", runs["count"], param="runs"),
        id="runs-section",
    )


def layout(request: PageRequest, model: str) -> html.Div:
    api = request.api
    found = gather(model=lambda: api.model(model), monitors=lambda: api.monitors(model))
    described, monitors = found["model"], found["monitors"]
    if isinstance(described, ApiError):
        raise described
    if isinstance(monitors, ApiError):
        raise monitors
    header = html.Div(
        [
            html.H1(model),
            html.P(f"{described['task'].replace('_', ' ')}, {len(described['features'])} features"),
            html.Nav(
                [
                    dcc.Link("events", href=request.href("events", model=model)),
                    dcc.Link("retraining", href=request.href("retraining", model=model)),
                    dcc.Link("rollouts", href=request.href("rollouts", model=model)),
                ],
                className="subnav",
            ),
        ]
    )
    if not monitors:
        return html.Div([header, notice("This model has no monitor yet.")])
    names = [m["name"] for m in monitors]
    monitor = request.chosen("monitor", names, names[0])
    picker = html.Nav(
        [
            option_link(
                name, request.href(f"models/{segment(model)}", monitor=name), name == monitor
            )
            for name in names
        ],
        className="subnav",
        id="monitor-picker",
    )
    first = gather(
        matrix=lambda: api.drift_matrix(model, monitor, windows=HEATMAP_WINDOWS),
        runs=lambda: api.runs(
            model, monitor=monitor, offset=offset(request, "runs"), limit=PAGE_SIZE
        ),
        ndcg=lambda: api.series(model, monitor, ATTRIBUTION, test="shap_ndcg", field="statistic"),
        quality=lambda: api.quality(model, monitor),
        champions=lambda: api.champions(model),
        references=lambda: api.references(model),
    )
    matrix, runs = first["matrix"], first["runs"]
    # Without its history a chart still shows its windows, unmarked.
    champions = [] if isinstance(first["champions"], ApiError) else first["champions"]
    if isinstance(matrix, ApiError):
        raise matrix
    if isinstance(runs, ApiError):
        raise runs
    latest = matrix["windows"][-1]["run_id"] if matrix["windows"] else None
    column = _output_column(matrix)
    calls: dict[str, Callable[[], Json]] = {
        "outputs": lambda: api.distribution(model, monitor, column, windows=DISTRIBUTION_WINDOWS)
    }
    if latest is not None:
        calls["run"] = lambda: api.run(model, latest)
    second = gather(**calls)
    run = second.get("run", ApiError(404, "no succeeded run yet"))
    outputs = second["outputs"]
    return html.Div(
        [
            header,
            picker,
            _heatmap(request, model, monitor, matrix, champions),
            section(
                "Prediction distribution over time",
                notice(str(outputs))
                if isinstance(outputs, ApiError)
                else graph("prediction-distribution", distribution_over_time(outputs, champions)),
            ),
            _attribution(run, first["ndcg"], champions),
            _data_quality(run),
            _model_quality(first["quality"], champions),
            _runs(request, model, monitor, runs),
            _references(first["references"]),
        ]
    )


def register(app: Dash, api: MonitorApi) -> None:
    @app.callback(
        Output("url", "href", allow_duplicate=True),
        Input("drift-heatmap", "clickData"),
        State("url", "pathname"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def open_feature(click: Json | None, pathname: str, query: str | None) -> Any:
        """A click on a heatmap cell opens that column's page, for the same monitor."""
        if not click:
            return no_update
        column = click["points"][0]["y"]
        return f"{pathname.rstrip('/')}/features/{segment(column)}{query or ''}"
