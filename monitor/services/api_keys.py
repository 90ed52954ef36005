"""Issuing, verifying, listing, revoking and rotating API keys. A key is
`mon_<prefix>_<secret>`; only its digest is stored, and its prefix names it."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from monitor.entities.api_key import ApiKey, Scope
from monitor.services.errors import Conflict, NotFound
from monitor.store.types import utc_now

KEY_PREFIX = "mon"
# last_used_at is written at most this often per key: the hot path stays off the database.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is safe; a slow KDF would only add latency.
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    *, session: Session, scope: Scope, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plaintext, which is never stored or shown again."""
    prefix = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(
        name=name, prefix=prefix, key_hash=_digest(plaintext), scope=scope, expires_at=expires_at
    )
    session.add(api_key)
    session.commit()
    session.refresh(api_key)
    return api_key, plaintext


def find_scope(*, session: Session, plaintext: str) -> Scope | None:
    """The scope of a valid key (not revoked, not expired), noting that it was used; None for
    anything else."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    api_key = session.exec(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    if api_key is None or api_key.revoked_at is not None:
        return None
    if not hmac.compare_digest(api_key.key_hash, _digest(plaintext)):
        return None
    now = utc_now()
    if api_key.expires_at is not None and api_key.expires_at <= now:
        return None
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        api_key.last_used_at = now
        session.add(api_key)
        session.commit()
    return Scope(api_key.scope)


def list_keys(*, session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))))


def _active_key(session: Session, prefix: str) -> ApiKey:
    api_key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if api_key is None:
        raise NotFound(f"no API key has prefix {prefix!r}; list them with GET /api/v1/keys")
    if api_key.revoked_at is not None:
        raise Conflict(f"API key {prefix!r} was revoked at {api_key.revoked_at.isoformat()}")
    return api_key


def revoke_key(*, session: Session, prefix: str) -> ApiKey:
    """Revoke a key; it stops working everywhere within MONITOR_API_KEY_CACHE_SECONDS."""
    api_key = _active_key(session, prefix)
    api_key.revoked_at = utc_now()
    session.add(api_key)
    session.commit()
    session.refresh(api_key)
    return api_key


def rotate_key(*, session: Session, prefix: str) -> tuple[ApiKey, str]:
    """A new key with the old one's scope, name and lifetime, and the old one revoked, in one
    transaction."""
    old = _active_key(session, prefix)
    lifetime = None if old.expires_at is None else old.expires_at - old.created_at
    now = utc_now()
    old.revoked_at = now
    session.add(old)
    return create_key(
        session=session,
        scope=Scope(old.scope),
        name=old.name,
        expires_at=None if lifetime is None else now + lifetime,
    )
