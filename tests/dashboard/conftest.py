"""A seeded `monitor serve` with the dashboard mounted, and Debian's Chromium driven by
Playwright. Without /usr/bin/chromium the browser tests skip with the reason, except under CI
(CI=true), where they fail: CI must never pass by skipping them."""

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.dashboard.bulk import insert_history, register_models
from tests.dashboard.seed import (
    Keys,
    add_webhook_channel,
    create_keys,
    current_hour,
    log_drifting_traffic,
    monitor_past_windows,
    register_model,
    retrain,
    start_rollout,
    wait_for_delivery,
)
from tests.e2e.server import MonitorServer, monitor_command
from tests.notifications.receiver import Receiver, running_receiver

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
FAST_SERVER = {
    "MONITOR_SCHEDULER_POLL_SECONDS": "0.5",
    "MONITOR_SCHEDULER_SYNC_SECONDS": "0.5",
    "MONITOR_DELIVERY_POLL_SECONDS": "0.2",
    "MONITOR_EGRESS_ALLOW_PRIVATE": "true",  # the webhook receiver listens on loopback
    "MONITOR_RETRAINING_POLL_SECONDS": "0.5",
}


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is absent (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI requires the browser tests", pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@dataclass(frozen=True)
class Dashboard:
    """A running server with the dashboard at `url`, its keys, and the rollout it runs."""

    server: MonitorServer
    keys: Keys
    url: str
    rollout_id: int


def start_with_keys(workdir: Path, settings: dict[str, str]) -> tuple[MonitorServer, Keys]:
    """A migrated store with keys, then the server."""
    server = MonitorServer(workdir, settings)
    subprocess.run(
        monitor_command("migrate"), cwd=workdir, env=server.env, check=True, capture_output=True
    )
    keys = create_keys(server)
    server.start()
    return server, keys


def sign_in(page: Page, dashboard_url: str, key: str) -> None:
    """Sign in through the page, as a user does: the dashboard sends an unsigned visitor to
    the sign-in form, and back to the dashboard once the key is accepted."""
    page.goto(dashboard_url)
    expect(page).to_have_url(f"{dashboard_url}signin")
    page.fill("#key", key)
    page.click("#signin")
    expect(page).to_have_url(dashboard_url)


def switch_key(page: Page, dashboard_url: str, key: str) -> None:
    """Sign in again with another key, through the header's 'switch key' link."""
    page.click("a.switch-key")
    expect(page).to_have_url(f"{dashboard_url}signin")
    page.fill("#key", key)
    page.click("#signin")
    expect(page).to_have_url(dashboard_url)


@pytest.fixture(scope="package")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as started:
        yield started


@pytest.fixture(scope="package")
def dashboard(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Dashboard]:
    server, keys = start_with_keys(tmp_path_factory.mktemp("dashboard"), FAST_SERVER)
    try:
        hour = current_hour()
        with httpx.Client(base_url=server.base_url, timeout=60.0) as client:
            add_webhook_channel(client, keys, receiver.url)
            for name in ("churn", "fraud", "pricing"):
                register_model(client, keys, name)
            log_drifting_traffic(client, keys, "churn", hour)
            monitor_past_windows(client, keys, "churn", hour)
            wait_for_delivery(client, keys)
            retrain(client, keys, "churn")
            rollout = start_rollout(client, keys, "churn")
        yield Dashboard(server, keys, f"{server.base_url}/dashboard/", rollout["id"])
    finally:
        server.stop()


@pytest.fixture(scope="package")
def large_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """50 models of 30 features and 1,250 runs, with the scheduler off (nothing moves)."""
    workdir = tmp_path_factory.mktemp("large-dashboard")
    server, keys = start_with_keys(workdir, {"MONITOR_SCHEDULER": "false"})
    try:
        with httpx.Client(base_url=server.base_url, timeout=60.0) as client:
            register_models(client, keys)
        insert_history(f"sqlite:///{workdir / 'data' / 'monitor.db'}", current_hour())
        yield Dashboard(server, keys, f"{server.base_url}/dashboard/", rollout_id=0)
    finally:
        server.stop()
