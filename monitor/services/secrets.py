"""Re-encrypting stored secrets under the first of `MONITOR_SECRET_KEYS` (key rotation)."""

from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, select

from monitor.entities.channel import Channel
from monitor.entities.registry_webhook import RegistryWebhookSecret
from monitor.entities.retraining import RetrainingPipeline


def rotate_secrets(*, session: Session) -> int:
    """Rewrite every encrypted value (read with any key, written with the first); returns how
    many rows were rewritten. One transaction: a failure leaves every row as it was."""
    rows = 0
    for channel in session.exec(select(Channel)):
        flag_modified(channel, "secrets")
        session.add(channel)
        rows += 1
    for pipeline in session.exec(select(RetrainingPipeline)):
        flag_modified(pipeline, "config")
        flag_modified(pipeline, "callback_secret")
        session.add(pipeline)
        rows += 1
    for secret in session.exec(select(RegistryWebhookSecret)):
        flag_modified(secret, "secret")
        session.add(secret)
        rows += 1
    session.commit()
    return rows
