"""Dashboard sign-in: nothing is served without a session, the session cookie is HttpOnly and
SameSite, a refused key says so on the page, and an action from another origin or without the
session's CSRF token is refused."""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from playwright.sync_api import Page, expect

from dashboard.signin import COOKIE, CSRF_COOKIE, CSRF_HEADER
from tests.dashboard.conftest import Dashboard

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/models/churn", "/dashboard/events"])
def test_an_unsigned_page_request_is_sent_to_sign_in(dashboard: Dashboard, path: str) -> None:
    reply = httpx.get(f"{dashboard.server.base_url}{path}")
    assert reply.status_code == 303
    assert reply.headers["location"] == "/dashboard/signin"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/dashboard/reports/churn/1"),
        ("GET", "/dashboard/_dash-layout"),
        ("POST", "/dashboard/_dash-update-component"),
    ],
)
def test_an_unsigned_data_request_is_401(dashboard: Dashboard, method: str, path: str) -> None:
    reply = httpx.request(method, f"{dashboard.server.base_url}{path}", json={})
    assert reply.status_code == 401


def test_the_session_cookie_is_httponly_and_samesite_strict(dashboard: Dashboard) -> None:
    reply = httpx.post(
        f"{dashboard.server.base_url}/dashboard/signin", data={"key": dashboard.keys.read}
    )
    [cookie] = [c for c in reply.headers.get_list("set-cookie") if c.startswith(COOKIE)]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert dashboard.keys.read not in cookie


@contextmanager
def _signed_in(dashboard: Dashboard, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=dashboard.server.base_url, timeout=30.0) as client:
        assert client.post("/dashboard/signin", data={"key": key}).status_code == 303
        yield client


def test_each_session_gets_its_own_csrf_token_readable_by_the_page_only(
    dashboard: Dashboard,
) -> None:
    tokens = []
    for _ in range(2):
        with _signed_in(dashboard, dashboard.keys.read) as client:
            tokens.append(client.cookies[CSRF_COOKIE])
    reply = httpx.post(
        f"{dashboard.server.base_url}/dashboard/signin", data={"key": dashboard.keys.read}
    )
    [cookie] = [c for c in reply.headers.get_list("set-cookie") if c.startswith(CSRF_COOKIE)]
    assert "SameSite=Strict" in cookie and "HttpOnly" not in cookie  # Dash's scripts send it
    assert tokens[0] != tokens[1] and len(tokens[0]) >= 40


@pytest.mark.parametrize("token", ["", "another-sessions-token"])
def test_an_action_without_the_sessions_csrf_token_is_refused(
    dashboard: Dashboard, token: str
) -> None:
    with (
        _signed_in(dashboard, dashboard.keys.admin) as client,
        _signed_in(dashboard, dashboard.keys.admin) as other,
    ):
        sent = other.cookies[CSRF_COOKIE] if token else ""
        origin = {"Origin": dashboard.server.base_url}
        reply = client.post(
            "/dashboard/_dash-update-component", json={}, headers={**origin, CSRF_HEADER: sent}
        )
        assert reply.status_code == 403
        assert "CSRF token" in reply.text
        own = {**origin, CSRF_HEADER: client.cookies[CSRF_COOKIE]}
        passed = client.post("/dashboard/_dash-update-component", json={}, headers=own)
        assert passed.status_code not in (401, 403)  # past the gate, to Dash itself


def test_a_post_from_another_origin_is_refused(dashboard: Dashboard) -> None:
    with httpx.Client(base_url=dashboard.server.base_url, timeout=30.0) as client:
        signed = client.post("/dashboard/signin", data={"key": dashboard.keys.read})
        assert signed.status_code == 303
        reply = client.post(
            "/dashboard/_dash-update-component",
            json={},
            headers={"Origin": "https://evil.example"},
        )
    assert reply.status_code == 403


def test_a_refused_key_is_named_on_the_sign_in_page(page: Page, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}signin")
    page.fill("#key", "mon_nope_notakey")
    page.click("#signin")
    expect(page.locator("#signin-error")).to_contain_text("That key was refused")
