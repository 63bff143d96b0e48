"""Live's HTTP routes: thin; the work is in the service."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request, Response, WebSocket, status

from liveloop.accounts.auth import Public, ShopStaff, SignedIn, principal_for_websocket
from liveloop.accounts.service import Principal
from liveloop.kit.db import commit, rollback, utcnow
from liveloop.kit.deps import AppContainer, DbSession
from liveloop.kit.errors import Forbidden, Unprocessable
from liveloop.kit.realtime import ClientMessage, serve_sse, serve_websocket
from liveloop.kit.validation import TimeZone
from liveloop.live.errors import FlashSaleNotFound
from liveloop.live.flash_sales import describe
from liveloop.live.models import LiveSession, SanctionKind
from liveloop.live.schedule import in_zone
from liveloop.live.schemas import (
    BagAdd,
    BagFromSet,
    BagItemOut,
    BagOrder,
    ChatCreate,
    ChatOut,
    ClaimCreate,
    ClaimOut,
    FlashSaleCreate,
    FlashSaleOut,
    LocalTimeOut,
    ModeratorAdd,
    PinCreate,
    PinOut,
    ProductSetCreate,
    ProductSetOut,
    SanctionCreate,
    SessionCreate,
    SessionOut,
    SlowMode,
    TapCreate,
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
    pin = await container.live.pin(
        session, session_id, principal, body.product_id, trace=body.trace
    )
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


# -- the room's real-time channel ---------------------------------------------------------------


def _snapshot_provider(container: Any) -> Any:
    async def provide(room_id: str) -> dict[str, Any]:
        async with container.sessionmaker() as session:
            snapshot: dict[str, Any] = await container.live.snapshot(session, uuid.UUID(room_id))
            stats = await container.rooms.viewer_stats(room_id)
            snapshot["viewers"] = {"now": stats.now}
            return snapshot

    return provide


def _client_messages(container: Any, principal: Principal | None, viewer_key: str) -> Any:
    """Frames a viewer sends over the socket: chat messages and tag taps."""

    async def handle(message: ClientMessage) -> dict[str, Any] | None:
        session_id = uuid.UUID(message.room_id)
        async with container.sessionmaker() as session:
            try:
                if message.type == "chat":
                    if principal is None:
                        raise Forbidden("Sign in to chat.", code="sign_in_to_chat")
                    sent = await container.live.send_chat(
                        session, session_id, principal, str(message.body.get("body", ""))
                    )
                    await commit(session)
                    return {"type": "chat_sent", "id": str(sent.id)}
                if message.type == "tap":
                    product_id = uuid.UUID(str(message.body.get("product_id")))
                    await container.live.record_activity(
                        session,
                        session_id,
                        kind="tap",
                        product_id=product_id,
                        viewer_key=viewer_key,
                    )
                    await commit(session)
                    return None
            except ValueError as exc:
                await rollback(session)
                raise Unprocessable(
                    "product_id is not a valid id.", code="invalid_message"
                ) from exc
            except BaseException:
                await rollback(session)
                raise
        raise Unprocessable(f"Unknown message type {message.type!r}.", code="unknown_message")

    return handle


@router.websocket("/{session_id}/room")
async def room_socket(websocket: WebSocket, session_id: uuid.UUID) -> None:
    """The live room over WebSocket: a snapshot on join (or what was missed since `?last_seq=`),
    then every event in order. Send `{"type":"chat","body":...}` or `{"type":"tap",...}`."""
    container = websocket.app.state.container
    async with container.sessionmaker() as session:
        principal = await principal_for_websocket(websocket, session)
        live = await container.live.get(session, session_id)
        blocked = (
            principal is not None
            and principal.user_id is not None
            and await container.live.is_blocked(session, live.id, principal.user_id)
        )
    if blocked:
        await websocket.close(code=4003, reason="blocked")
        return
    viewer = (
        str(principal.user_id)
        if principal and principal.user_id
        else websocket.query_params.get("viewer")
    )
    await serve_websocket(
        websocket,
        container.rooms,
        str(session_id),
        viewer_id=viewer,
        snapshot_provider=_snapshot_provider(container),
        on_client_message=_client_messages(container, principal, viewer or "anonymous"),
    )


@router.get("/{session_id}/events", response_model=None)
async def room_events(
    session_id: uuid.UUID,
    request: Request,
    viewer: Public,
    session: DbSession,
    container: AppContainer,
) -> Response:
    """The live room as Server-Sent Events, for clients without WebSockets (`Last-Event-ID`
    resumes). Chat and taps are sent with the POST routes instead."""
    live = await container.live.get(session, session_id)
    if (
        viewer is not None
        and viewer.user_id is not None
        and await container.live.is_blocked(session, live.id, viewer.user_id)
    ):
        raise Forbidden("You are blocked from this room.", code="chat_blocked")
    return await serve_sse(
        request,
        container.rooms,
        str(session_id),
        viewer_id=str(viewer.user_id)
        if viewer and viewer.user_id
        else request.query_params.get("viewer"),
        snapshot_provider=_snapshot_provider(container),
    )


@router.get("/{session_id}/snapshot")
async def room_snapshot(
    session_id: uuid.UUID, _: Public, session: DbSession, container: AppContainer
) -> dict[str, Any]:
    """The room's current state in one call (what a joining socket receives first)."""
    snapshot: dict[str, Any] = await container.live.snapshot(session, session_id)
    return snapshot


# -- flash sales -------------------------------------------------------------------------------


def _sale_out(sale: Any) -> FlashSaleOut:
    return FlashSaleOut(**describe(sale, utcnow()))


@router.post(
    "/{session_id}/flash-sales", status_code=status.HTTP_201_CREATED, response_model=FlashSaleOut
)
async def create_flash_sale(
    session_id: uuid.UUID,
    body: FlashSaleCreate,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> FlashSaleOut:
    """Schedule a deal on a bag product: it starts after the countdown and runs for the duration."""
    sale = await container.live.create_flash_sale(
        session,
        session_id,
        principal,
        product_id=body.product_id,
        variant_id=body.variant_id,
        deal_prices=body.deal_prices,
        quantity=body.quantity,
        per_buyer_cap=body.per_buyer_cap,
        countdown_seconds=body.countdown_seconds,
        duration_minutes=body.duration_minutes,
    )
    return _sale_out(sale)


@router.get("/{session_id}/flash-sales/{sale_id}", response_model=FlashSaleOut)
async def get_flash_sale(
    session_id: uuid.UUID,
    sale_id: uuid.UUID,
    _: Public,
    session: DbSession,
    container: AppContainer,
) -> FlashSaleOut:
    sale = await container.live.flash.get(session, sale_id)
    if sale.session_id != session_id:
        raise FlashSaleNotFound("No such flash sale in this session.")
    return _sale_out(sale)


@router.post(
    "/{session_id}/flash-sales/{sale_id}/claims",
    status_code=status.HTTP_201_CREATED,
    response_model=ClaimOut,
)
async def claim_flash_sale(
    session_id: uuid.UUID,
    sale_id: uuid.UUID,
    body: ClaimCreate,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> ClaimOut:
    """Win units at the deal price: held for you for a few minutes while you pay."""
    sale = await container.live.flash.get(session, sale_id)
    if sale.session_id != session_id:
        raise FlashSaleNotFound("No such flash sale in this session.")
    assert principal.user_id is not None
    won = await container.live.flash.claim(
        session, sale_id, buyer_id=principal.user_id, quantity=body.quantity, market=body.market
    )
    return ClaimOut(
        id=won.claim.id,
        sale_id=sale.id,
        variant_id=sale.variant_id,
        quantity=won.claim.quantity,
        unit_price=won.unit_price.amount,
        currency=won.unit_price.currency,
        reservation_id=won.claim.reservation_id,
        pay_by=won.claim.expires_at,
        left=won.left,
    )


@router.delete("/{session_id}/flash-sales/{sale_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_flash_sale(
    session_id: uuid.UUID,
    sale_id: uuid.UUID,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> Response:
    await container.live.require_runner(session, session_id, principal)
    sale = await container.live.flash.get(session, sale_id)
    if sale.session_id != session_id:
        raise FlashSaleNotFound("No such flash sale in this session.")
    await container.live.flash.cancel(session, sale)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- chat and moderation -------------------------------------------------------------------------


@router.post("/{session_id}/chat", status_code=status.HTTP_201_CREATED, response_model=ChatOut)
async def send_chat(
    session_id: uuid.UUID,
    body: ChatCreate,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> ChatOut:
    message = await container.live.send_chat(session, session_id, principal, body.body)
    return ChatOut(
        **{k: v for k, v in vars(message).items() if k in ChatOut.model_fields}
        | {"name": message.display_name}
    )


@router.delete("/{session_id}/chat/{message_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_chat(
    session_id: uuid.UUID,
    message_id: uuid.UUID,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> Response:
    await container.live.remove_chat(session, session_id, principal, message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{session_id}/sanctions", status_code=status.HTTP_204_NO_CONTENT)
async def sanction_viewer(
    session_id: uuid.UUID,
    body: SanctionCreate,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> Response:
    """Mute (may watch, not write) or block (may not join) a viewer, for a while or for good."""
    await container.live.sanction(
        session,
        session_id,
        principal,
        user_id=body.user_id,
        kind=SanctionKind(body.kind),
        minutes=body.minutes,
        reason=body.reason,
    )
    if body.kind == "block":
        for sub in container.rooms.subscriptions(session_id):
            if sub.viewer_id == str(body.user_id):
                sub.close("blocked")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{session_id}/sanctions/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def lift_sanctions(
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> Response:
    await container.live.lift_sanctions(session, session_id, principal, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{session_id}/slow-mode", status_code=status.HTTP_204_NO_CONTENT)
async def set_slow_mode(
    session_id: uuid.UUID,
    body: SlowMode,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> Response:
    await container.live.set_slow_mode(session, session_id, principal, body.seconds)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- taps and the host's numbers ------------------------------------------------------------------


@router.post("/{session_id}/taps", status_code=status.HTTP_204_NO_CONTENT)
async def tap_tag(
    session_id: uuid.UUID,
    body: TapCreate,
    viewer: Public,
    session: DbSession,
    container: AppContainer,
) -> Response:
    """Count a tap on a product tag (for click-through rates)."""
    live = await container.live.get(session, session_id)
    key = str(viewer.user_id) if viewer and viewer.user_id else body.viewer_key or "anonymous"
    await container.live.record_activity(
        session, live.id, kind="tap", product_id=body.product_id, viewer_key=key
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{session_id}/numbers")
async def live_numbers(
    session_id: uuid.UUID, principal: SignedIn, session: DbSession, container: AppContainer
) -> dict[str, Any]:
    """The host's live numbers: viewers now, peak and unique; taps and click-through per
    product; add-to-carts; orders, units and GMV per currency; conversion."""
    live = await container.live.require_runner(session, session_id, principal)
    stats = await container.rooms.viewer_stats(live.id)
    numbers: dict[str, Any] = await container.live.numbers(
        session,
        live.id,
        viewers_now=stats.now,
        viewers_peak=stats.peak,
        viewers_unique=stats.unique,
    )
    return numbers


# -- product sets ---------------------------------------------------------------------------------

sets_router = APIRouter(prefix="/api/v1/shops/{shop_id}/product-sets", tags=["live"])


@sets_router.post("", status_code=status.HTTP_201_CREATED, response_model=ProductSetOut)
async def create_product_set(
    shop_id: uuid.UUID,
    body: ProductSetCreate,
    principal: ShopStaff,
    session: DbSession,
    container: AppContainer,
) -> ProductSetOut:
    """A reusable list of the shop's products to put in a stream's bag in one go."""
    made = await container.live.create_product_set(
        session, shop_id, principal, name=body.name, product_ids=body.product_ids
    )
    return ProductSetOut.model_validate(made)


@sets_router.get("", response_model=list[ProductSetOut])
async def list_product_sets(
    shop_id: uuid.UUID, _: ShopStaff, session: DbSession, container: AppContainer
) -> list[ProductSetOut]:
    return [
        ProductSetOut.model_validate(s) for s in await container.live.product_sets(session, shop_id)
    ]


@router.post(
    "/{session_id}/bag/from-set",
    status_code=status.HTTP_201_CREATED,
    response_model=list[BagItemOut],
)
async def add_set_to_bag(
    session_id: uuid.UUID,
    body: BagFromSet,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> list[BagItemOut]:
    await container.live.add_set_to_bag(session, session_id, principal, body.set_id)
    return [BagItemOut.model_validate(i) for i in await container.live.bag(session, session_id)]
