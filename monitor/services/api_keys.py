"""Issuing and verifying API keys. A key is `mon_<prefix>_<secret>`; only its digest is stored."""

import hashlib
import hmac
import secrets

from sqlmodel import Session, select

from monitor.entities.api_key import ApiKey, Scope

KEY_PREFIX = "mon"


def _digest(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is safe; a slow KDF would only add latency.
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(*, session: Session, scope: Scope, name: str = "") -> tuple[ApiKey, str]:
    """Store a new key and return it with its plaintext, which is never stored or shown again."""
    prefix = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(name=name, prefix=prefix, key_hash=_digest(plaintext), scope=scope)
    session.add(api_key)
    session.commit()
    session.refresh(api_key)
    return api_key, plaintext


def find_scope(*, session: Session, plaintext: str) -> Scope | None:
    """The scope of a valid, unrevoked key; None for anything else."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    api_key = session.exec(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    if api_key is None or api_key.revoked_at is not None:
        return None
    if not hmac.compare_digest(api_key.key_hash, _digest(plaintext)):
        return None
    return Scope(api_key.scope)
