"""The secret MLflow signs its model-registry webhooks with (one per control plane), stored
encrypted, and the shapes of the webhook endpoint."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.security.crypto import EncryptedText
from monitor.store.types import UTCDateTime, utc_now

# The one row: a control plane verifies every MLflow webhook with the same secret.
SECRET_ROW = 1


class RegistryWebhookSecret(SQLModel, table=True):
    __tablename__ = "registry_webhook_secret"

    id: int | None = TableField(default=None, primary_key=True)
    secret: str = TableField(sa_type=EncryptedText, nullable=False, repr=False)
    updated_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


class WebhookSecretIn(BaseModel):
    """Request body of `PUT /api/v1/integrations/mlflow/webhook-secret`."""

    model_config = ConfigDict(extra="forbid")

    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=512,
        description="The secret given to MLflow's `create_webhook(secret=...)`; omitted: a new "
        "random one is made and returned",
    )


class WebhookSecretOut(BaseModel):
    secret: str = Field(description="Give it to MLflow's `create_webhook(secret=...)`")
    updated_at: datetime


class WebhookOutcome(StrEnum):
    RECORDED = "recorded"  # the champion moved: history, routing and monitors follow
    UNCHANGED = "unchanged"  # the control plane already had this champion
    IGNORED = "ignored"  # an event or alias that moves nothing here, or an unknown model


class WebhookReceipt(BaseModel):
    outcome: WebhookOutcome
    models: list[str] = Field(description="Models of the control plane the event concerned")
    detail: str
