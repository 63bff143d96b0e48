"""Live's HTTP routes: thin; the work is in the service."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response, status

from liveloop.accounts.auth import Public, SignedIn
from liveloop.accounts.service import Principal
from liveloop.kit.deps import AppContainer, DbSession
from liveloop.kit.validation import TimeZone
from liveloop.live.models import LiveSession
from liveloop.live.schedule import in_zone
from liveloop.live.schemas import (
    BagAdd,
    BagItemOut,
    BagOrder,
    LocalTimeOut,
    ModeratorAdd,
    PinCreate,
    PinOut,
    SessionCreate,
    SessionOut,
)

router = APIRouter(prefix="/api/v1/live-sessions", tags=["live"])


async def _out(
    container: AppContainer,
    session: DbSession,
    live: LiveSession,
    viewer: Principal | None,
    tz: str | None = None,
) -> SessionOut:
    locale = viewer.locale if viewer else "en_GB"
    viewer_zone = tz or (viewer.time_zone if viewer else "UTC")
    return SessionOut(
        id=live.id,
        title=live.title,
        description=live.description,
        host_user_id=live.host_user_id,
        shop_id=live.shop_id,
        shop_ids=await container.live.shop_ids(session, live.id),
        markets=live.markets,
        state=live.state.value,
        scheduled_start=live.scheduled_start,
        scheduled_end=live.scheduled_end,
        started_at=live.started_at,
        ended_at=live.ended_at,
        host_time=LocalTimeOut(**vars(in_zone(live.scheduled_start, live.host_time_zone, locale))),
        your_time=LocalTimeOut(**vars(in_zone(live.scheduled_start, viewer_zone, locale))),
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SessionOut)
async def schedule_session(
    body: SessionCreate, principal: SignedIn, session: DbSession, container: AppContainer
) -> SessionOut:
    """Schedule a session. Times are entered in the host's zone (or `time_zone`)."""
    live = await container.live.schedule(
        session,
        principal,
        title=body.title,
        description=body.description,
        shop_id=body.shop_id,
        partner_shop_ids=body.partner_shop_ids,
        markets=body.markets,
        start_local=body.start_local,
        end_local=body.end_local,
        time_zone=body.time_zone,
    )
    return await _out(container, session, live, principal)


@router.get("/{session_id}", response_model=SessionOut)
async def get_session(
    session_id: uuid.UUID,
    viewer: Public,
    session: DbSession,
    container: AppContainer,
    tz: TimeZone | None = Query(default=None, description="Show times in this zone."),
) -> SessionOut:
    live = await container.live.get(session, session_id)
    return await _out(container, session, live, viewer, tz)


@router.post("/{session_id}/start", response_model=SessionOut)
async def start_session(
    session_id: uuid.UUID, principal: SignedIn, session: DbSession, container: AppContainer
) -> SessionOut:
    """Go live by hand (normally the video ingest does this when the stream arrives)."""
    await container.live.require_runner(session, session_id, principal)
    live = await container.live.go_live(
        session, session_id, actor_id=principal.user_id, reason="started by the host"
    )
    return await _out(container, session, live, principal)


@router.post("/{session_id}/end", response_model=SessionOut)
async def end_session(
    session_id: uuid.UUID, principal: SignedIn, session: DbSession, container: AppContainer
) -> SessionOut:
    await container.live.require_runner(session, session_id, principal)
    live = await container.live.end(
        session, session_id, actor_id=principal.user_id, reason="ended by the host"
    )
    return await _out(container, session, live, principal)


@router.post("/{session_id}/moderators", status_code=status.HTTP_204_NO_CONTENT)
async def add_moderator(
    session_id: uuid.UUID,
    body: ModeratorAdd,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> Response:
    await container.live.add_moderator(session, session_id, principal, body.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{session_id}/bag", response_model=list[BagItemOut])
async def get_bag(
    session_id: uuid.UUID, _: Public, session: DbSession, container: AppContainer
) -> list[BagItemOut]:
    """The products featured in the session, during and after the stream."""
    return [BagItemOut.model_validate(i) for i in await container.live.bag(session, session_id)]


@router.post(
    "/{session_id}/bag", status_code=status.HTTP_201_CREATED, response_model=list[BagItemOut]
)
async def add_to_bag(
    session_id: uuid.UUID,
    body: BagAdd,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> list[BagItemOut]:
    await container.live.add_to_bag(session, session_id, principal, body.product_ids)
    return [BagItemOut.model_validate(i) for i in await container.live.bag(session, session_id)]


@router.put("/{session_id}/bag/order", response_model=list[BagItemOut])
async def reorder_bag(
    session_id: uuid.UUID,
    body: BagOrder,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> list[BagItemOut]:
    items = await container.live.reorder_bag(session, session_id, principal, body.product_ids)
    return [BagItemOut.model_validate(i) for i in items]


@router.delete("/{session_id}/bag/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_from_bag(
    session_id: uuid.UUID,
    product_id: uuid.UUID,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> Response:
    await container.live.remove_from_bag(session, session_id, principal, product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{session_id}/pins", status_code=status.HTTP_201_CREATED, response_model=PinOut)
async def pin_product(
    session_id: uuid.UUID,
    body: PinCreate,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> PinOut:
    """Pin a bag product: it appears as a tag on every viewer's screen."""
    pin = await container.live.pin(session, session_id, principal, body.product_id)
    return PinOut.model_validate(pin)


@router.delete("/{session_id}/pins/current", status_code=status.HTTP_204_NO_CONTENT)
async def unpin_product(
    session_id: uuid.UUID, principal: SignedIn, session: DbSession, container: AppContainer
) -> Response:
    await container.live.unpin(session, session_id, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{session_id}/pins", response_model=list[PinOut])
async def list_pins(
    session_id: uuid.UUID, _: Public, session: DbSession, container: AppContainer
) -> list[PinOut]:
    """Every pin with its media time: the replay shows each product at its moment."""
    return [PinOut.model_validate(p) for p in await container.live.replay_pins(session, session_id)]
