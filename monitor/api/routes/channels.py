"""Notification channels (admin: secrets go in, only masked values come out), a test send per
channel, and the delivery log with its attempts (read) and manual redelivery (admin)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from monitor.api.deps import AdminKey, EngineDep, Offset, ReadKey, RowId, SessionDep, SettingsDep
from monitor.entities.channel import ChannelCreate, ChannelPublic, ChannelsPublic, ChannelUpdate
from monitor.entities.delivery import (
    DeliveriesPublic,
    DeliveryDetail,
    DeliveryPublic,
    DeliveryStatus,
    TestNotificationResult,
)
from monitor.services import channels, deliveries

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.post("/channels", status_code=status.HTTP_201_CREATED, dependencies=[AdminKey])
def create_channel(session: SessionDep, channel_in: ChannelCreate) -> ChannelPublic:
    created = channels.create_channel(session=session, channel_in=channel_in)
    return channels.to_public(created)


@router.get("/channels", dependencies=[ReadKey])
def list_channels(session: SessionDep) -> ChannelsPublic:
    found = channels.list_channels(session=session)
    return ChannelsPublic(data=[channels.to_public(c) for c in found], count=len(found))


@router.get("/channels/{name}", dependencies=[ReadKey])
def read_channel(session: SessionDep, name: str) -> ChannelPublic:
    return channels.to_public(channels.get_channel(session=session, name=name))


@router.patch("/channels/{name}", dependencies=[AdminKey])
def update_channel(session: SessionDep, name: str, channel_in: ChannelUpdate) -> ChannelPublic:
    updated = channels.update_channel(session=session, name=name, channel_in=channel_in)
    return channels.to_public(updated)


@router.delete("/channels/{name}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[AdminKey])
def delete_channel(session: SessionDep, name: str) -> Response:
    channels.delete_channel(session=session, name=name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/channels/{name}/test",
    dependencies=[AdminKey],
    summary="Send a test notification now (one attempt) and return it",
)
def test_channel(engine: EngineDep, settings: SettingsDep, name: str) -> TestNotificationResult:
    return deliveries.send_test(engine=engine, settings=settings, name=name)


@router.get("/deliveries", dependencies=[ReadKey], summary="Deliveries, newest first")
def list_deliveries(
    session: SessionDep,
    channel: Annotated[str | None, Query(description="Channel name")] = None,
    event: Annotated[str | None, Query(description="Event id (evt_...)")] = None,
    status: DeliveryStatus | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeliveriesPublic:
    return deliveries.list_deliveries(
        session=session, channel=channel, event=event, status=status, offset=offset, limit=limit
    )


@router.get("/deliveries/{delivery_id}", dependencies=[ReadKey], summary="With its attempts")
def read_delivery(session: SessionDep, delivery_id: RowId) -> DeliveryDetail:
    return deliveries.get_delivery(session=session, delivery_id=delivery_id)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[AdminKey],
    summary="Queue a delivered, dead or suppressed delivery again",
)
def redeliver(session: SessionDep, delivery_id: RowId) -> DeliveryPublic:
    return deliveries.redeliver(session=session, delivery_id=delivery_id)
