"""Generic webhooks are signed per Standard Webhooks: the reference `standardwebhooks` package
verifies them, and refuses them once the body is touched."""

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.notifications.samples import notification
from triggers.notifications.webhook import decode_secret, new_secret, signature, webhook_request

URL = "http://127.0.0.1:9/hook"


def _signed(secret: str, now: datetime | None = None) -> tuple[bytes, dict[str, str]]:
    request = webhook_request(
        notification(), {"url": URL, "signing_secret": secret}, {}, now or datetime.now(UTC)
    )
    return request.body, dict(request.headers)


def test_signature_verifies_with_the_standardwebhooks_package() -> None:
    secret = new_secret()
    body, headers = _signed(secret)
    assert Webhook(secret).verify(body, headers)["id"] == notification().id


def test_webhook_id_is_the_event_id() -> None:
    _, headers = _signed(new_secret())
    assert headers["webhook-id"] == "evt_0123456789abcdef0123456789abcdef"


def test_body_is_the_event_envelope() -> None:
    body, _ = _signed(new_secret())
    assert json.loads(body) == notification().envelope


def test_a_tampered_body_fails_verification() -> None:
    secret = new_secret()
    body, headers = _signed(secret)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"churn", b"churm"), headers)


def test_another_secret_fails_verification() -> None:
    body, headers = _signed(new_secret())
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_timestamp_header_is_the_attempt_time_in_unix_seconds() -> None:
    now = datetime(2026, 11, 23, 12, 0, 0, 900_000, tzinfo=UTC)
    _, headers = _signed(new_secret(), now)
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))


def test_signature_matches_the_specs_worked_example() -> None:
    # The example message of the Standard Webhooks specification.
    signed = signature(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330,
        body=b'{"test": 2432232314}',
    )
    assert signed == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with 'whsec_'"),
        ("whsec_not base64!", "is base64"),
        ("whsec_c2hvcnQ=", "24 to 64 bytes"),
    ],
)
def test_malformed_secrets_are_refused_with_the_reason(secret: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        decode_secret(secret)
