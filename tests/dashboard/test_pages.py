"""Every page of the dashboard in real headless Chromium against a seeded `monitor serve`:
what it shows, and what its controls do."""

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from dashboard.figures import with_versions
from tests.dashboard.bulk import model_name
from tests.dashboard.conftest import Dashboard, screenshot, sign_in, switch_key
from tests.e2e.server import bearer

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def signed_in(page: Page, dashboard: Dashboard) -> None:
    sign_in(page, dashboard.url, dashboard.keys.read)


def test_overview_shows_each_model_with_its_health_rollout_and_traffic(
    page: Page, dashboard: Dashboard
) -> None:
    page.goto(dashboard.url)
    rows = page.locator("#overview-table tbody tr")
    expect(rows).to_have_count(3)
    churn = rows.filter(has_text="churn")
    expect(churn).to_contain_text("drifting")
    expect(churn).to_contain_text("progressing")
    expect(churn.locator("img")).to_have_attribute("title", "1200 records in the last 24 h")
    expect(rows.filter(has_text="fraud")).to_contain_text("no data")
    screenshot(page, "overview")


def test_model_page_shows_the_drift_heatmap_quality_and_runs_with_reports(
    page: Page, dashboard: Dashboard
) -> None:
    page.goto(dashboard.url)
    page.click("#overview-table >> text=churn")
    expect(page).to_have_url(re.compile(r"/dashboard/models/churn$"))
    expect(page.locator("#drift-heatmap .main-svg").first).to_be_visible()
    expect(page.locator("#drift-section")).to_contain_text("4 of 10 columns drifted")
    expect(page.locator("#prediction-distribution .main-svg").first).to_be_visible()
    expect(page.locator("#quality-table")).to_contain_text("missing")
    expect(page.locator("#runs-table tbody tr")).to_have_count(4)
    link = page.locator("#runs-table a", has_text="report").first.get_attribute("href")
    shown = page.request.get(f"{dashboard.server.base_url}{link}")
    run_id = (link or "").rsplit("/", 1)[-1]
    stored = httpx.get(
        f"{dashboard.server.base_url}/api/v1/models/churn/runs/{run_id}/report",
        headers=bearer(dashboard.keys.read),
    )
    assert shown.ok and shown.text() == stored.text
    screenshot(page, "model")


def test_clicking_a_drifted_feature_opens_its_distributions_and_ks_distance(
    page: Page, dashboard: Dashboard
) -> None:
    page.goto(f"{dashboard.url}models/churn")
    page.click("#feature-links >> text=x0")
    expect(page).to_have_url(re.compile(r"/models/churn/features/x0\?monitor=drift$"))
    expect(page.locator("#feature-title")).to_have_text("x0")
    expect(page.locator("#feature-histogram .main-svg").first).to_be_visible()
    expect(page.locator("#feature-cdf")).to_contain_text("KS distance")
    expect(page.locator("#feature-series")).to_contain_text("threshold")
    screenshot(page, "feature")


def test_clicking_a_heatmap_cell_opens_that_columns_page(page: Page, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}models/churn?monitor=drift")
    cells = page.locator("#drift-heatmap .nsewdrag").first
    expect(cells).to_be_visible()
    box = cells.bounding_box()
    assert box is not None
    # The top row is the first column tested (x0); the rightmost cell its latest window.
    page.mouse.click(box["x"] + box["width"] - 5, box["y"] + 5)
    expect(page).to_have_url(re.compile(r"/models/churn/features/x0\?monitor=drift$"))
    expect(page.locator("#feature-title")).to_have_text("x0")


def test_categorical_feature_shows_category_bars_without_a_cdf(
    page: Page, dashboard: Dashboard
) -> None:
    page.goto(f"{dashboard.url}models/churn/features/region")
    expect(page.locator("#feature-histogram")).to_contain_text("apac")
    expect(page.locator("#feature-summary")).to_contain_text("categorical")
    expect(page.locator("#feature-cdf")).to_have_count(0)


def test_event_type_filter_narrows_the_timeline_and_goes_in_the_address(
    page: Page, dashboard: Dashboard
) -> None:
    page.goto(f"{dashboard.url}events")
    expect(page.locator("#events-table")).to_contain_text("drift.detected")
    page.click("#events-type")
    page.keyboard.type("drift.detected")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"type=drift.detected"))
    types = page.locator("#events-table tbody tr td:nth-child(2)")
    expect(types.first).to_have_text("drift.detected")
    assert set(types.all_inner_texts()) == {"drift.detected"}
    expect(page.locator("#events-timeline .main-svg").first).to_be_visible()
    screenshot(page, "events")


def test_delivery_attempts_show_what_the_receiver_answered(
    page: Page, dashboard: Dashboard
) -> None:
    page.goto(f"{dashboard.url}events?dstatus=delivered")
    page.locator("#deliveries-table button", has_text="attempts").first.click()
    expect(page.locator("#attempts-panel")).to_contain_text("200")


def test_redeliver_refuses_a_read_session_saying_why_then_queues_for_an_admin_one(
    page: Page, dashboard: Dashboard
) -> None:
    page.goto(f"{dashboard.url}events?dstatus=delivered")
    page.locator("#deliveries-table button", has_text="redeliver").first.click()
    expect(page.locator("#redeliver-result")).to_contain_text(
        "needs an admin key, and you are signed in with a key that may only read"
    )
    switch_key(page, dashboard.url, dashboard.keys.admin)
    page.goto(f"{dashboard.url}events?dstatus=delivered")
    page.locator("#deliveries-table button", has_text="redeliver").first.click()
    expect(page.locator("#redeliver-result")).to_contain_text("is queued again (pending)")
    screenshot(page, "deliveries")


def test_retraining_page_shows_the_run_with_its_pipeline_logs(
    page: Page, dashboard: Dashboard
) -> None:
    page.goto(f"{dashboard.url}retraining?model=churn")
    expect(page.locator("#retraining-table tbody tr")).to_have_count(1)
    expect(page.locator("#retraining-logs")).to_contain_text("fitting gradient boosting")
    screenshot(page, "retraining")


def test_model_picker_switches_to_a_model_without_retraining_runs(
    page: Page, dashboard: Dashboard
) -> None:
    page.goto(f"{dashboard.url}retraining?model=churn")
    page.click("#model-picker")
    page.keyboard.type("fraud")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"retraining\?model=fraud$"))
    expect(page.locator(".notice-empty")).to_have_text("Model 'fraud' has no retraining runs.")


def test_rollout_is_paused_and_resumed_from_its_page(page: Page, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}rollouts?model=churn")
    summary = page.locator("#rollout-summary")
    expect(summary).to_contain_text("progressing")
    expect(page.locator("#rollout-weights .main-svg").first).to_be_visible()
    switch_key(page, dashboard.url, dashboard.keys.admin)
    page.goto(f"{dashboard.url}rollouts?model=churn")
    page.click("button:text-is('pause')")
    expect(page.locator("#rollout-action-result")).to_contain_text(
        f"Rollout #{dashboard.rollout_id} is now paused."
    )
    expect(summary).to_contain_text("paused")
    screenshot(page, "rollouts")
    page.click("button:text-is('resume')")
    expect(summary).to_contain_text("progressing")


def test_rollouts_page_says_so_when_a_model_has_none(page: Page, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}rollouts?model=pricing")
    expect(page.locator(".notice-empty")).to_have_text("No rollouts for pricing.")


def test_navigation_bar_reaches_every_page(page: Page, dashboard: Dashboard) -> None:
    page.goto(dashboard.url)
    for label, shown in (
        ("Events", "#events-section"),
        ("Retraining", "#retraining-table"),
        ("Rollouts", "#rollouts-table"),
        ("Overview", "#overview-table"),
    ):
        page.click(f"header >> text={label}")
        expect(page.locator(shown)).to_be_visible()


def test_unknown_model_shows_the_apis_answer(page: Page, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}models/nope")
    expect(page.locator(".notice-error")).to_contain_text("404")


def test_model_page_marks_each_promotion_and_what_each_window_judged(
    page: Page, large_dashboard: Dashboard
) -> None:
    """model-00's champion moved from v1 to v2 mid-series (tests/dashboard/bulk.py)."""
    page.context.clear_cookies()  # the session signed in to the other dashboard's store
    sign_in(page, large_dashboard.url, large_dashboard.keys.read)
    page.goto(f"{large_dashboard.url}models/{model_name(0)}")
    for chart in ("#drift-heatmap", "#prediction-distribution", "#quality-series"):
        expect(page.locator(f"{chart} .annotation-text")).to_have_text(["v2"])
        expect(page.locator(f"{chart} .shapelayer path")).to_have_count(1)
    hovers = page.locator("#quality-series .js-plotly-plot").evaluate("plot => plot.data[1].text")
    references = page.locator("#references-table tbody tr")
    expect(references).to_have_count(2)
    expect(references.first).to_contain_text("v2")
    expect(references.first).to_contain_text("upload")
    expect(references.nth(1)).to_contain_text("2000")
    newest, oldest = (references.nth(i).locator("td").first.inner_text() for i in (0, 1))
    assert hovers[0] == f"judged v1 against reference {oldest}"
    assert hovers[-1] == f"judged v2 against reference {newest}"
    runs = page.locator("#runs-table tbody tr")
    assert runs.locator("td:nth-child(3)").all_inner_texts()[:2] == ["v2", "v2"]
    assert runs.locator("td:nth-child(3)").last.inner_text() == "v1"
    assert set(runs.locator("td:nth-child(4)").all_inner_texts()) == {newest, oldest}
    assert grown_charts(page) == []  # thirty columns by twenty-five windows, labels tilted
    screenshot(page, "model-versions")


def grown_charts(page: Page) -> list[dict[str, object]]:
    """The page's charts whose margins Plotly had to grow past what the figure was sent with
    (it redraws such a chart whole; `dashboard.figures.margins` sizes them to avoid that)."""
    charts = page.locator("#page .js-plotly-plot")
    expect(charts.first).to_be_visible()
    drawn: list[dict[str, object]] = charts.evaluate_all(
        """plots => plots.map(plot => {
            const size = plot._fullLayout._size, sent = plot.layout.margin;
            return {id: plot.parentElement.id, sent: sent,
                    drawn: {l: size.l, r: size.r, t: size.t, b: size.b}};
        })"""
    )
    assert drawn, "no chart on the page"
    return [chart for chart in drawn if chart["drawn"] != chart["sent"]]


CHART_PAGES = ["models/churn", "models/churn/features/x0", "models/churn/features/region", "events"]


@pytest.mark.parametrize("path", [*CHART_PAGES, "rollouts?rollout={rollout}"])
def test_each_chart_is_drawn_within_the_margins_it_was_sent_with(
    page: Page, dashboard: Dashboard, path: str
) -> None:
    """Plotly draws a chart twice when its labels, titles or colour bar need more margin than
    the figure gave: each chart must already have it."""
    page.goto(dashboard.url + path.format(rollout=dashboard.rollout_id))
    assert grown_charts(page) == []


def test_version_markers_only_mark_promotions_within_the_charts_windows() -> None:
    ends = ["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z"]
    champions = [
        {"model_version": "1", "since": "2025-12-01T00:00:00Z", "source": "endpoint"},
        {"model_version": "2", "since": "2026-01-01T01:30:00Z", "source": "rollout"},
        {"model_version": "3", "since": "2026-01-01T03:30:00Z", "source": "registry"},
    ]
    on_time = with_versions({"layout": {}}, champions, ends)["layout"]
    assert [note["text"] for note in on_time["annotations"]] == ["v2"]
    assert on_time["shapes"][0]["x0"] == "2026-01-01 01:30:00"
    on_columns = with_versions({"layout": {}}, champions, ends, first_category=1)["layout"]
    assert on_columns["shapes"][0]["x0"] == 1.5  # between the first window and the second
