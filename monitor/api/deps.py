"""FastAPI dependencies: settings, sessions, the caller's key scope, and the model in the path."""

import base64
import hashlib
import time
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from sqlalchemy import Engine
from sqlmodel import Session

from monitor.api.metrics import ApiMetrics
from monitor.entities.api_key import Scope
from monitor.entities.registered_model import RegisteredModel
from monitor.services import api_keys, models
from monitor.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


# Ids and offsets are 64-bit in the store: a larger number is a 422, not a database error.
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
# Tables of configuration (rollouts) have 32-bit ids on PostgreSQL.
MAX_CONFIG_ID = 2**31 - 1
ConfigId = Annotated[int, Path(ge=1, le=MAX_CONFIG_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ROW_ID)]

SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
MetricsDep = Annotated[ApiMetrics, Depends(get_metrics)]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer mon_...`")


class KeyCache:
    """Verified keys by digest, trusted for a few seconds to keep the hot path off the database."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[str, tuple[Scope, float]] = {}

    def get(self, digest: str) -> Scope | None:
        entry = self._entries.get(digest)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, digest: str, scope: Scope) -> None:
        if self.ttl > 0:
            self._entries[digest] = (scope, time.monotonic() + self.ttl)


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"}
    )


def _verified_scope(
    request: Request, engine: Engine, plaintext: str, accepted: tuple[Scope, ...]
) -> Scope:
    cache: KeyCache = request.app.state.key_cache
    digest = hashlib.sha256(plaintext.encode()).hexdigest()
    scope = cache.get(digest)
    if scope is None:
        with Session(engine) as session:
            scope = api_keys.find_scope(session=session, plaintext=plaintext)
        if scope is None:
            raise _unauthorised("invalid or revoked API key")
        cache.put(digest, scope)
    if not any(scope.allows(required) for required in accepted):
        needed = " or ".join(f"'{s}'" for s in dict.fromkeys((*accepted, Scope.ADMIN)))
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"this key has scope '{scope}'; this call needs {needed}"
        )
    return scope


def holds_a_valid_key(request: Request) -> bool:
    """Whether the request carries a key of any scope (Bearer, or a Basic password), checked
    without refusing: for app-wide work that must not read an anonymous caller's body."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            value = base64.b64decode(value, validate=True).decode().partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            return False
    elif scheme.lower() != "bearer":
        return False
    try:
        _verified_scope(request, get_engine(request), value.strip(), tuple(Scope))
    except HTTPException:
        return False
    return True


def require(*accepted: Scope) -> Callable[..., Scope]:
    """A dependency that lets through keys whose scope is one of `accepted` (admin: always)."""

    def check(
        request: Request,
        engine: Annotated[Engine, Depends(get_engine)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Scope:
        if credentials is None:
            raise _unauthorised("missing API key: send `Authorization: Bearer <key>`")
        return _verified_scope(request, engine, credentials.credentials, accepted)

    return check


_basic = HTTPBasic(
    auto_error=False,
    description="The API key as the password (any user name), for senders "
    "that cannot set headers but take a URL: `http://kserve:<key>@host/...`",
)


def require_bearer_or_basic(*accepted: Scope) -> Callable[..., Scope]:
    """`require`, also taking the key as an HTTP Basic password: KServe's payload logger cannot
    add headers, but Go's HTTP client sends the user:password of its URL as Basic auth."""

    def check(
        request: Request,
        engine: Annotated[Engine, Depends(get_engine)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    ) -> Scope:
        plaintext = bearer.credentials if bearer else basic.password if basic else ""
        if not plaintext:
            raise _unauthorised(
                "missing API key: send `Authorization: Bearer <key>`, or put the key as the "
                "password in the logger url (`http://kserve:<key>@host/...`)"
            )
        return _verified_scope(request, engine, plaintext, accepted)

    return check


IngestKey = Depends(require(Scope.INGEST))
ReadKey = Depends(require(Scope.READ))
ReadOrIngestKey = Depends(require(Scope.READ, Scope.INGEST))
AdminKey = Depends(require(Scope.ADMIN))
LoggerIngestKey = Depends(require_bearer_or_basic(Scope.INGEST))


def get_model(model: str, session: SessionDep) -> RegisteredModel:
    return models.get_model(session=session, name=model)


ModelDep = Annotated[RegisteredModel, Depends(get_model)]
