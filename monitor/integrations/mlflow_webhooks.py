"""MLflow 3's model-registry webhooks: verified as MLflow signs them (HMAC-SHA256 over
`<delivery id>.<timestamp>.<body>`, base64, sent as `X-MLflow-Signature: v1,<signature>`, the
Standard Webhooks scheme), then `@champion` set on a version is followed at once.

Webhooks are not durable (MLflow sends each once, with a few retries), so the scheduler also
reads `@champion` every `MONITOR_CHAMPION_SYNC_SECONDS` (monitor/versions/reconcile.py).
"""

import base64
import hashlib
import hmac
import logging
import secrets
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from monitor.entities.registry_webhook import (
    SECRET_ROW,
    RegistryWebhookSecret,
    WebhookOutcome,
    WebhookReceipt,
)
from monitor.store.types import utc_now
from monitor.versions.follow import follow_registry_champion, models_registered_as

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"
CHAMPION = "champion"


class WebhookRefused(Exception):
    """The request is not a webhook MLflow signed with the stored secret; the message says why."""


class RegistryWebhook(BaseModel):
    """The envelope MLflow posts (`mlflow.webhooks.delivery`): the event and its payload."""

    model_config = ConfigDict(extra="allow")

    entity: str = Field(max_length=64, examples=["model_version_alias"])
    action: str = Field(max_length=64, examples=["created"])
    timestamp: str = Field(max_length=64, description="When MLflow sent it (ISO 8601)")
    data: dict[str, Any] = Field(
        description="The event's payload, e.g. {name, alias, version} for model_version_alias"
    )


class AliasSet(BaseModel):
    """`data` of `model_version_alias.created` (MLflow's ModelVersionAliasCreatedPayload)."""

    name: str = Field(min_length=1, max_length=256)
    alias: str = Field(min_length=1, max_length=256)
    version: str = Field(min_length=1, max_length=128)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def store_secret(session: Session, secret: str) -> RegistryWebhookSecret:
    row = session.get(RegistryWebhookSecret, SECRET_ROW) or RegistryWebhookSecret(
        id=SECRET_ROW, secret=secret
    )
    row.secret = secret
    row.updated_at = utc_now()
    session.add(row)
    session.commit()
    return row


def signature_of(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The `X-MLflow-Signature` value MLflow sends for this body."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def verify(
    session: Session,
    *,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    delivery_id: str | None,
    now: datetime,
    tolerance_seconds: float,
) -> None:
    stored = session.get(RegistryWebhookSecret, SECRET_ROW)
    if stored is None:
        raise WebhookRefused(
            "no MLflow webhook secret is configured here: set one with "
            "PUT /api/v1/integrations/mlflow/webhook-secret and give it to MLflow's "
            "create_webhook(secret=...)"
        )
    if not (signature and timestamp and delivery_id):
        raise WebhookRefused(
            f"unsigned: {SIGNATURE_HEADER}, {TIMESTAMP_HEADER} and {DELIVERY_ID_HEADER} are "
            "required; create the MLflow webhook with secret=... (the secret stored here)"
        )
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > tolerance_seconds:
        raise WebhookRefused(
            f"{TIMESTAMP_HEADER} {timestamp!r} is not a Unix time within "
            f"{tolerance_seconds:g} s of this server's clock (a replay, or a skewed clock)"
        )
    expected = signature_of(stored.secret, delivery_id, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise WebhookRefused(
            f"{SIGNATURE_HEADER} does not match: the webhook's secret in MLflow differs from "
            "the one stored here"
        )


def receive(session: Session, webhook: RegistryWebhook, *, now: datetime) -> WebhookReceipt:
    """Act on a verified webhook, in one transaction."""
    if (webhook.entity, webhook.action) != ("model_version_alias", "created"):
        return WebhookReceipt(
            outcome=WebhookOutcome.IGNORED,
            models=[],
            detail=f"{webhook.entity}.{webhook.action} moves nothing here",
        )
    alias = AliasSet.model_validate(webhook.data)
    if alias.alias != CHAMPION:
        return WebhookReceipt(
            outcome=WebhookOutcome.IGNORED,
            models=[],
            detail=f"@{alias.alias} is read when a rollout starts; only @champion is followed",
        )
    models = models_registered_as(session, alias.name)
    moved = [m.name for m in models if follow_registry_champion(session, m, alias.version, now=now)]
    session.commit()
    names = [m.name for m in models]
    if not models:
        outcome, detail = WebhookOutcome.IGNORED, f"no model here is registered as {alias.name!r}"
    elif moved:
        outcome, detail = WebhookOutcome.RECORDED, f"version {alias.version} is champion"
        log.info("%s: @champion set on version %s in MLflow", ", ".join(moved), alias.version)
    else:
        outcome, detail = WebhookOutcome.UNCHANGED, f"version {alias.version} already was champion"
    return WebhookReceipt(outcome=outcome, models=names, detail=detail)
