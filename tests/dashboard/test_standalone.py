"""`python -m dashboard` on its own, reading a control plane over HTTP; and what a dashboard
without a read key says."""

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from dashboard.app import route
from dashboard.client import ApiError, MonitorApi
from dashboard.components import PageRequest
from tests.dashboard.conftest import Dashboard, screenshot
from tests.dashboard.seed import wait_for
from tests.e2e.server import clean_environment, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def standalone(dashboard: Dashboard) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "dashboard", "--api", dashboard.server.base_url]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=clean_environment({"MONITOR_DASHBOARD_API_KEY": dashboard.keys.read}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        try:
            return httpx.get(url, timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for("python -m dashboard to answer", answers, timeout=30)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_dashboard_on_its_own_shows_the_control_planes_models(page: Page, standalone: str) -> None:
    page.goto(standalone)
    expect(page.locator("#overview-table tbody tr")).to_have_count(3)
    page.click("#overview-table >> text=churn")
    expect(page.locator("#drift-heatmap .main-svg").first).to_be_visible()
    screenshot(page, "standalone-model")


def test_dashboard_on_its_own_refuses_to_start_without_a_read_key() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "dashboard", "--api", "http://127.0.0.1:9"],
        env=clean_environment({}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "MONITOR_DASHBOARD_API_KEY" in completed.stderr


def test_page_without_a_read_key_says_how_to_get_one() -> None:
    request = PageRequest(MonitorApi("http://127.0.0.1:9", lambda: None), "/", {})
    with pytest.raises(ApiError, match="monitor keys create --scope read"):
        route(request, "")
