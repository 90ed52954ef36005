"""The drift heat map shows verdicts, not raw ratios, and says why a large effect did not count;
the rollout chart puts each check's bound in the check's own units. The figures are checked on
hand-made API answers, and the heat map once more in real Chromium against a seeded server."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dashboard.drift_figures import cell_verdict, drift_heatmap
from dashboard.rollout_figures import rollout_checks
from tests.dashboard.conftest import Dashboard, sign_in

WINDOWS = [{"run_id": i, "window_end": f"2026-01-01T0{i}:00:00Z"} for i in range(4)]


def matrix_row(**cells: object) -> dict[str, Any]:
    """One ks column over four windows: quiet, small but significant at a million rows, large
    but not significant at 120 rows, large and significant only before the BH correction."""
    row = {
        "feature": "x0",
        "role": "feature",
        "test": "ks",
        "values": [0.01, 0.02, 0.3, 0.25],
        "thresholds": [0.1] * 4,
        "drifted": [False] * 4,
        "p_values": [0.6, 1e-9, 0.04, 0.004],
        "adjusted_p_values": [0.9, 1e-8, 0.04, 0.03],
        "p_value_thresholds": [0.01] * 4,
        "sample_sizes": [1_000, 1_000_000, 120, 800],
        "messages": [None] * 4,
    }
    return {**row, **cells}


def test_heatmap_colours_by_verdict_and_shades_by_effect() -> None:
    drifted = matrix_row(
        feature="x1", values=[0.05, 0.12, 0.4, None], drifted=[False, True, True, None]
    )
    figure = drift_heatmap({"windows": WINDOWS, "rows": [matrix_row(), drifted]})
    quiet, loud = figure["data"][0]["z"]
    assert all(cell < 0.5 for cell in quiet)  # a statistic 3x its floor stays grey when quiet
    assert quiet[2] > quiet[1] > quiet[0]  # shaded by the effect
    assert loud[0] < 0.5 <= loud[1] < loud[2] and loud[3] is None


def test_hover_says_which_rule_kept_a_large_effect_quiet() -> None:
    row = matrix_row()
    tiny, few_rows, corrected = (cell_verdict(row, i) for i in (1, 2, 3))
    assert tiny.startswith("not drifted: the effect is under the floor (n = 1,000,000)")
    assert "significant but the difference is too small to matter" in tiny
    assert few_rows.startswith("not counted: the effect passes the floor but p = 0.04")
    assert "with only 120 rows" in few_rows
    assert "becomes 0.03 after the Benjamini-Hochberg correction" in corrected


def test_rollout_bounds_are_drawn_in_each_checks_units() -> None:
    checks = [
        {
            "name": name,
            "time": "2026-01-01T00:00:00Z",
            "stable_value": stable,
            "canary_value": canary,
            "threshold": threshold,
            "detail": "d",
        }
        for name, stable, canary, threshold in (
            ("latency_p99", 200.0, 240.0, 1.5),
            ("accuracy", 0.9, 0.88, 0.05),
            ("error_rate", 0.01, 0.02, 0.02),
            ("prediction_psi", None, 0.05, 0.2),
        )
    ]
    figure = rollout_checks(checks)
    bounds = {trace["yaxis"]: trace["y"][0] for trace in figure["data"] if trace["name"] == "bound"}
    titles = {
        key: axis["title"]["text"]
        for key, axis in figure["layout"].items()
        if key.startswith("yaxis")
    }
    by_title = {titles["yaxis" + axis[1:]]: value for axis, value in bounds.items()}
    assert by_title == pytest.approx(
        {"accuracy": 0.85, "error rate": 0.03, "p99 latency (ms)": 300.0, "prediction PSI": 0.2}
    )


@pytest.mark.slow
def test_heatmap_in_the_browser_colours_drifted_cells_red_and_explains_each_cell(
    page: Page, dashboard: Dashboard
) -> None:
    sign_in(page, dashboard.url, dashboard.keys.read)
    page.goto(f"{dashboard.url}models/churn?monitor=drift")
    plot = page.locator("#drift-heatmap .js-plotly-plot")
    expect(plot).to_be_visible()
    trace = plot.evaluate("plot => plot.data[0]")
    cells = [
        (z, mark, hover)
        for zs, marks, hovers in zip(trace["z"], trace["text"], trace["customdata"], strict=True)
        for z, mark, hover in zip(zs, marks, hovers, strict=True)
        if z is not None
    ]
    assert any(mark for _, mark, _ in cells) and any(not mark for _, mark, _ in cells)
    for z, mark, hover in cells:
        assert (z >= 0.5) == bool(mark)
        assert hover.startswith("drifted" if mark else ("not drifted", "not counted"))
    box = page.locator("#drift-heatmap .nsewdrag").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] - 5, box["y"] + 5)  # x0 in the latest window
    expect(page.locator("#drift-heatmap .hoverlayer")).to_contain_text("x0 at")
