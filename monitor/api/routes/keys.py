"""API keys (admin): issue, list, revoke and rotate. A key's secret is shown once, on creation."""

from datetime import timedelta

from fastapi import APIRouter, status

from monitor.api.deps import AdminKey, SessionDep
from monitor.entities.api_key import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, ApiKeysPublic, Scope
from monitor.services import api_keys
from monitor.store.types import utc_now

router = APIRouter(prefix="/api/v1/keys", tags=["keys"], dependencies=[AdminKey])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Issue a key (shown only now)")
def create_key(session: SessionDep, key_in: ApiKeyCreate) -> ApiKeyCreated:
    expires_at = (
        None
        if key_in.expires_in_days is None
        else utc_now() + timedelta(days=key_in.expires_in_days)
    )
    created, plaintext = api_keys.create_key(
        session=session, scope=Scope(key_in.scope), name=key_in.name, expires_at=expires_at
    )
    return ApiKeyCreated(**ApiKeyPublic.of(created).model_dump(), key=plaintext)


@router.get("", summary="Every key, revoked ones included, with its last use")
def list_keys(session: SessionDep) -> ApiKeysPublic:
    found = api_keys.list_keys(session=session)
    return ApiKeysPublic(data=[ApiKeyPublic.of(k) for k in found], count=len(found))


@router.post("/{prefix}/revoke", summary="Revoke a key (effective within the key cache time)")
def revoke_key(session: SessionDep, prefix: str) -> ApiKeyPublic:
    return ApiKeyPublic.of(api_keys.revoke_key(session=session, prefix=prefix))


@router.post("/{prefix}/rotate", summary="A new key in place of this one, which is revoked")
def rotate_key(session: SessionDep, prefix: str) -> ApiKeyCreated:
    created, plaintext = api_keys.rotate_key(session=session, prefix=prefix)
    return ApiKeyCreated(**ApiKeyPublic.of(created).model_dump(), key=plaintext)
