"""Generic webhooks signed per the Standard Webhooks spec (standardwebhooks.com): the event
envelope as the JSON body, with `webhook-id` (the event id, stable across retries, so receivers
drop duplicates), `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature`
(`v1,` + base64 HMAC-SHA256 over `<id>.<timestamp>.<body>` keyed by the decoded secret)."""

import base64
import binascii
import hashlib
import hmac
import secrets as token_source
from collections.abc import Mapping
from datetime import datetime

from triggers.notifications.envelope import Notification, OutboundRequest, json_request

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64


def decode_secret(secret: str) -> bytes:
    """The key bytes of a `whsec_<base64>` signing secret; ValueError says what is wrong."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a signing secret starts with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error as error:
        raise ValueError(f"after {SECRET_PREFIX!r} a signing secret is base64") from error
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError(
            f"a signing secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes "
            f"(this one holds {len(key)})"
        )
    return key


def new_secret() -> str:
    """A fresh random signing secret in the spec's format."""
    return SECRET_PREFIX + base64.b64encode(token_source.token_bytes(32)).decode()


def signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_request(
    notification: Notification,
    secrets: Mapping[str, str],
    options: Mapping[str, str],
    now: datetime,
) -> OutboundRequest:
    url, secret = secrets["url"], secrets["signing_secret"]
    unsigned = json_request(url, notification.envelope, secrets=(url, secret))
    timestamp = int(now.timestamp())
    headers = {
        **unsigned.headers,
        "webhook-id": notification.id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(
            secret, msg_id=notification.id, timestamp=timestamp, body=unsigned.body
        ),
    }
    return OutboundRequest(url=url, body=unsigned.body, headers=headers, secrets=unsigned.secrets)
