"""Integrations: MLflow's model-registry webhooks (signed, no API key) and their secret."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from monitor.api.deps import AdminKey, EngineDep, SessionDep, SettingsDep
from monitor.api.responses import error_answer
from monitor.entities.registry_webhook import WebhookReceipt, WebhookSecretIn, WebhookSecretOut
from monitor.integrations.mlflow_webhooks import (
    RegistryWebhook,
    WebhookRefused,
    new_secret,
    receive,
    store_secret,
    verify,
)
from monitor.store.types import utc_now

router = APIRouter(prefix="/api/v1/integrations/mlflow", tags=["integrations"])

_REFUSED: dict[int | str, dict[str, Any]] = {
    401: error_answer("Not signed with the stored secret (or none is stored); detail says why")
}


@router.put(
    "/webhook-secret",
    dependencies=[AdminKey],
    summary="Set the secret MLflow signs its registry webhooks with",
)
def put_webhook_secret(session: SessionDep, secret_in: WebhookSecretIn) -> WebhookSecretOut:
    row = store_secret(session, secret_in.secret or new_secret())
    return WebhookSecretOut(secret=row.secret, updated_at=row.updated_at)


@router.post(
    "/webhook",
    summary="Receive an MLflow model-registry webhook (@champion moved)",
    description="Point MLflow's `create_webhook(url=..., events=[model_version_alias.created], "
    "secret=...)` here. Authenticated by MLflow's HMAC signature, not by an API key.",
    responses=_REFUSED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RegistryWebhook.model_json_schema()}},
        }
    },
)
async def receive_webhook(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    signature: Annotated[str | None, Header(alias="X-MLflow-Signature", max_length=512)] = None,
    timestamp: Annotated[str | None, Header(alias="X-MLflow-Timestamp", max_length=32)] = None,
    delivery_id: Annotated[str | None, Header(alias="X-MLflow-Delivery-Id", max_length=128)] = None,
) -> WebhookReceipt:
    body = await request.body()

    def handle() -> WebhookReceipt:
        now = utc_now()
        with Session(engine, expire_on_commit=False) as session:
            verify(
                session,
                body=body,
                signature=signature,
                timestamp=timestamp,
                delivery_id=delivery_id,
                now=now,
                tolerance_seconds=settings.mlflow_webhook_tolerance_seconds,
            )
            webhook = RegistryWebhook.model_validate_json(body)
            return receive(session, webhook, now=now)

    try:
        return await run_in_threadpool(handle)
    except WebhookRefused as refused:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(refused)) from refused
