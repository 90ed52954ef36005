"""The HMAC signatures of the completion callback and of the training-data link."""

import pytest

from triggers.retraining import (
    SignatureRejected,
    sign_callback,
    sign_link,
    verify_callback,
    verify_link,
)

SECRET = "a-callback-secret-of-some-length"
BODY = b'{"status": "succeeded", "model_uri": "models:/m-1"}'
NOW = 1_800_000_000


def _verify(body: bytes = BODY, timestamp: int = NOW, signature: str | None = None) -> None:
    verify_callback(
        SECRET,
        timestamp=str(timestamp),
        signature=signature or sign_callback(SECRET, timestamp, body),
        body=body,
        now=NOW,
        tolerance_seconds=300,
    )


def test_a_correctly_signed_callback_verifies() -> None:
    _verify()


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign_callback(SECRET, NOW, BODY) == f"sha256={expected}"


def test_a_changed_body_is_rejected() -> None:
    with pytest.raises(SignatureRejected, match="does not match the body"):
        _verify(signature=sign_callback(SECRET, NOW, b'{"status": "failed"}'))


def test_another_secret_is_rejected() -> None:
    with pytest.raises(SignatureRejected, match="does not match"):
        _verify(signature=sign_callback("another-secret-entirely-here", NOW, BODY))


def test_an_old_timestamp_is_rejected_as_a_replay() -> None:
    old = NOW - 3600
    with pytest.raises(SignatureRejected, match="off this server's clock"):
        _verify(timestamp=old, signature=sign_callback(SECRET, old, BODY))


def test_missing_headers_are_named() -> None:
    with pytest.raises(SignatureRejected, match=r"X-Monitor-Timestamp.*X-Monitor-Signature"):
        verify_callback(
            SECRET, timestamp=None, signature=None, body=BODY, now=NOW, tolerance_seconds=300
        )


def test_a_signed_link_verifies_until_it_expires() -> None:
    path = "/api/v1/retraining/runs/7/training-data"
    signature = sign_link(SECRET, path, NOW + 60)
    verify_link(SECRET, path=path, expires=NOW + 60, signature=signature, now=NOW)
    with pytest.raises(SignatureRejected, match="expired"):
        verify_link(SECRET, path=path, expires=NOW + 60, signature=signature, now=NOW + 61)


def test_a_link_for_another_run_is_rejected() -> None:
    signature = sign_link(SECRET, "/api/v1/retraining/runs/7/training-data", NOW + 60)
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_link(
            SECRET,
            path="/api/v1/retraining/runs/8/training-data",
            expires=NOW + 60,
            signature=signature,
            now=NOW,
        )
