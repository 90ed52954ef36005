"""Secrets at rest: channel secrets, pipeline configurations (their `env`) and callback secrets
are stored encrypted with Fernet under `MONITOR_SECRET_KEYS`, decrypted only when read.

Several keys may be given (comma-separated): the first encrypts, every one decrypts, so a key is
rotated by putting a new one first, running `monitor secrets rotate`, then dropping the old one
(docs/security.md).
"""

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from monitor.settings import get_settings

GENERATE = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class SecretKeyError(ValueError):
    """MONITOR_SECRET_KEYS is malformed, or no key in it opens a stored secret."""


@lru_cache(maxsize=8)
def cipher_for(keys: str) -> MultiFernet:
    """The cipher of a `MONITOR_SECRET_KEYS` value; a malformed key is named by its position."""
    parsed = []
    for position, key in enumerate((k.strip() for k in keys.split(",")), start=1):
        try:
            parsed.append(Fernet(key))
        except ValueError as error:
            raise SecretKeyError(
                f"MONITOR_SECRET_KEYS: key {position} is not a Fernet key (32 url-safe "
                f"base64-encoded bytes); generate one with: {GENERATE}"
            ) from error
    return MultiFernet(parsed)


def process_cipher() -> MultiFernet:
    """The cipher of this process's settings (every process of a deployment has the same)."""
    return cipher_for(get_settings().secret_keys)


def seal(plaintext: str, cipher: MultiFernet) -> str:
    return cipher.encrypt(plaintext.encode()).decode()


def unseal(token: str, cipher: MultiFernet) -> str:
    try:
        return cipher.decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretKeyError(
            "a stored secret opens with none of MONITOR_SECRET_KEYS; keep the key it was "
            "encrypted with in the list until `monitor secrets rotate` has run"
        ) from error


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored as a Fernet token (text)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else seal(json.dumps(value), process_cipher())

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(unseal(value, process_cipher()))


class EncryptedText(TypeDecorator[str]):
    """A string stored as a Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else seal(value, process_cipher())

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else unseal(value, process_cipher())
