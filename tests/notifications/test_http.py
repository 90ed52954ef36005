"""The HTTP send: every outcome comes back as a result, and no secret leaks into errors or logs."""

import logging
import socket

import pytest

from tests.notifications.receiver import Answer, Receiver
from triggers.notifications import OutboundRequest
from triggers.notifications.http import client_for, post, redact

SECRET_PATH = "/services/T000/B000/XXXXSECRETXXXX"


def _request(url: str) -> OutboundRequest:
    return OutboundRequest(url=url, body=b"{}", headers={}, secrets=(url,))


def test_2xx_answer_has_status_and_latency_and_no_error(receiver: Receiver) -> None:
    if client := client_for(1.0, allow_private=True):
        result = post(_request(receiver.url + SECRET_PATH), client)
    assert (result.status_code, result.error) == (200, None)
    assert result.latency_ms > 0


def test_error_answer_keeps_the_status_and_retry_after(receiver: Receiver) -> None:
    receiver.script = lambda _: Answer(429, {"Retry-After": "7"}, b"rate_limited")
    if client := client_for(1.0, allow_private=True):
        result = post(_request(receiver.url + SECRET_PATH), client)
    assert (result.status_code, result.error, result.retry_after) == (
        429,
        "HTTP 429 Too Many Requests",
        "7",
    )


def test_the_receivers_words_are_not_kept(receiver: Receiver) -> None:
    receiver.script = lambda _: Answer(404, body=b"internal admin panel: users=alice,bob")
    if client := client_for(1.0, allow_private=True):
        result = post(_request(receiver.url + SECRET_PATH), client)
    assert result.error == "HTTP 404 Not Found"


def test_timeout_is_an_answerless_result(receiver: Receiver) -> None:
    receiver.script = lambda _: Answer(delay=0.3)
    if client := client_for(0.05, allow_private=True):
        result = post(_request(receiver.url + SECRET_PATH), client)
    assert result.status_code is None
    assert result.error is not None and result.error.startswith("timed out")


def test_refused_connection_is_an_answerless_result_without_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}{SECRET_PATH}"
    if client := client_for(1.0, allow_private=True):
        result = post(_request(url), client)
    assert result.status_code is None
    assert result.error is not None and "ConnectError" in result.error
    assert SECRET_PATH not in result.error


def test_httpx_request_log_line_is_silenced_while_sending(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    if client := client_for(1.0, allow_private=True):
        post(_request(receiver.url + SECRET_PATH), client)
        client.get(receiver.url + "/not-a-notification")  # other callers still log
    assert SECRET_PATH not in caplog.text
    assert "/not-a-notification" in caplog.text


def test_redact_removes_secret_urls_paths_and_tokens() -> None:
    text = "https://hooks.example/abc/def?token=zz failed; path /abc/def; key R0123"
    assert redact(text, ("https://hooks.example/abc/def?token=zz", "R0123")) == (
        "[redacted] failed; path [redacted]; key [redacted]"
    )
