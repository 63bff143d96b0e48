"""Live sessions: scheduling across time zones, their states, the bag, pins and their media
times (for tags in step with the picture and shoppable replays).

Other contexts call this module (imported as `live_service`), never live's tables. Room events
are broadcast through the `broadcast` callable given to `Live`, only after the change commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.service import Accounts, Principal
from liveloop.catalog import service as catalog_service
from liveloop.kit import outbox
from liveloop.kit.db import after_commit, utcnow
from liveloop.kit.errors import Forbidden, LiveloopError, field_error
from liveloop.kit.money import Money
from liveloop.kit.ratelimit import RateLimiter
from liveloop.live import chat, events
from liveloop.live import repository as repo
from liveloop.live.errors import (
    ChatInvalid,
    IllegalTransition,
    InvalidSchedule,
    NotHost,
    NotInBag,
    NotLive,
    SessionNotFound,
)
from liveloop.live.flash_sales import FlashSaleDesk, describe
from liveloop.live.models import (
    BagItem,
    ChatMessage,
    LiveSession,
    LiveSessionModerator,
    LiveSessionShop,
    Pin,
    ProductSet,
    RoomActivity,
    RoomSanction,
    SanctionKind,
    SessionState,
    SessionStateChange,
)
from liveloop.live.schedule import check_window, local_to_utc

Broadcast = Callable[[uuid.UUID, str, dict[str, Any], int | None], Awaitable[None]]

TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    SessionState.scheduled: frozenset({SessionState.live, SessionState.cancelled}),
    SessionState.live: frozenset({SessionState.ended}),
    SessionState.ended: frozenset(),
    SessionState.cancelled: frozenset(),
}


async def _no_broadcast(
    room: uuid.UUID, event_type: str, data: dict[str, Any], media_time_ms: int | None
) -> None:
    return None


class Live:
    def __init__(
        self,
        *,
        broadcast: Broadcast | None = None,
        redis: Redis | None = None,
        limiter: RateLimiter | None = None,
        accounts: Accounts,
    ) -> None:
        self._accounts = accounts
        self._broadcast = broadcast or _no_broadcast
        self._limiter = limiter or RateLimiter()
        self.flash = FlashSaleDesk(redis, self._announce)
        self._image_url: Callable[[str], str] = lambda key: f"/media/{key}"

    def set_media_urls(self, url: Callable[[str], str]) -> None:
        self._image_url = url

    def set_broadcast(self, broadcast: Broadcast) -> None:
        self._broadcast = broadcast

    def _announce(
        self,
        session: AsyncSession,
        room: uuid.UUID,
        event_type: str,
        data: dict[str, Any],
        media_time_ms: int | None = None,
    ) -> None:
        async def send() -> None:
            await self._broadcast(room, event_type, data, media_time_ms)

        after_commit(session, send)

    # -- sessions ------------------------------------------------------------------------------

    async def schedule(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        title: str,
        description: str,
        shop_id: uuid.UUID | None,
        partner_shop_ids: Sequence[uuid.UUID],
        markets: Sequence[str],
        start_local: datetime,
        end_local: datetime,
        time_zone: str | None,
    ) -> LiveSession:
        """A shop's staff schedule for their shop; a creator schedules for partner shops."""
        if principal.user_id is None:
            raise Forbidden("Only a person can host a live session.")
        if shop_id is not None:
            if not principal.may_act_for_shop(shop_id):
                raise NotHost(
                    "You are not on this shop's staff.", code="shop_not_found", status=404
                )
        elif not principal.is_creator:
            raise Forbidden(
                "Name the shop you host for, or become a creator to host for partner shops."
            )
        shops = [s for s in ([shop_id] if shop_id else []) + list(partner_shop_ids)]
        if not shops:
            raise InvalidSchedule(
                "A session features at least one shop.",
                errors=[field_error("partner_shop_ids", "no shop named", code="required")],
            )
        for sid in shops:
            await catalog_service.get_shop(session, sid)
        zone = time_zone or principal.time_zone
        start = local_to_utc(start_local, zone, field="start_local")
        end = local_to_utc(end_local, zone, field="end_local")
        check_window(start, end, utcnow())
        live = LiveSession(
            title=title,
            description=description,
            host_user_id=principal.user_id,
            shop_id=shop_id,
            markets=sorted(set(markets)),
            host_time_zone=zone,
            scheduled_start=start,
            scheduled_end=end,
        )
        session.add(live)
        await session.flush()
        for sid in dict.fromkeys(shops):
            session.add(LiveSessionShop(session_id=live.id, shop_id=sid))
        await session.flush()
        outbox.record(
            session,
            events.SESSION_SCHEDULED,
            aggregate_type="live_session",
            aggregate_id=live.id,
            payload={
                "session_id": live.id,
                "host_user_id": live.host_user_id,
                "shop_ids": shops,
                "markets": live.markets,
                "scheduled_start": start,
            },
            actor_id=principal.user_id,
        )
        return live

    async def get(self, session: AsyncSession, session_id: uuid.UUID) -> LiveSession:
        live = await repo.get_session(session, session_id)
        if live is None:
            raise SessionNotFound("No such live session.")
        return live

    async def shop_ids(self, session: AsyncSession, session_id: uuid.UUID) -> list[uuid.UUID]:
        return await repo.shop_ids_of(session, session_id)

    async def may_run(self, session: AsyncSession, live: LiveSession, principal: Principal) -> bool:
        """The host, the session's moderators, the host shop's staff and platform admins."""
        if principal.is_platform_admin or principal.user_id == live.host_user_id:
            return True
        if live.shop_id is not None and principal.may_act_for_shop(live.shop_id):
            return True
        return principal.user_id in await repo.moderator_ids_of(session, live.id)

    async def require_runner(
        self, session: AsyncSession, session_id: uuid.UUID, principal: Principal
    ) -> LiveSession:
        live = await self.get(session, session_id)
        if not await self.may_run(session, live, principal):
            raise NotHost("Only the host and the session's moderators may do this.")
        return live

    async def add_moderator(
        self, session: AsyncSession, session_id: uuid.UUID, principal: Principal, user_id: uuid.UUID
    ) -> None:
        live = await self.get(session, session_id)
        if principal.user_id != live.host_user_id and not principal.is_platform_admin:
            raise NotHost("Only the host appoints moderators.")
        if user_id not in await repo.moderator_ids_of(session, live.id):
            session.add(LiveSessionModerator(session_id=live.id, user_id=user_id))
            await session.flush()

    async def _transition(
        self,
        session: AsyncSession,
        live: LiveSession,
        to: SessionState,
        *,
        actor_id: uuid.UUID | None,
        reason: str,
    ) -> None:
        if to not in TRANSITIONS[live.state]:
            raise IllegalTransition(f"A {live.state.value} session cannot become {to.value}.")
        session.add(
            SessionStateChange(
                session_id=live.id,
                from_state=live.state.value,
                to_state=to.value,
                actor_id=actor_id,
                reason=reason,
            )
        )
        live.state = to
        await session.flush()

    async def go_live(
        self,
        session: AsyncSession,
        session_id: uuid.UUID,
        *,
        actor_id: uuid.UUID | None,
        reason: str,
        at: datetime | None = None,
    ) -> LiveSession:
        live = await repo.get_session_for_update(session, session_id)
        if live is None:
            raise SessionNotFound("No such live session.")
        if live.state is SessionState.live:
            live.video_dropped_at = None  # a reconnect within the grace period continues
            await session.flush()
            return live
        await self._transition(session, live, SessionState.live, actor_id=actor_id, reason=reason)
        live.started_at = at or utcnow()
        outbox.record(
            session,
            events.SESSION_STARTED,
            aggregate_type="live_session",
            aggregate_id=live.id,
            payload={
                "session_id": live.id,
                "host_user_id": live.host_user_id,
                "started_at": live.started_at,
            },
            actor_id=actor_id,
        )
        self._announce(
            session,
            live.id,
            "session_state",
            {"state": "live", "started_at": live.started_at.isoformat()},
        )
        return live

    async def mark_video_dropped(self, session: AsyncSession, session_id: uuid.UUID) -> None:
        live = await self.get(session, session_id)
        if live.state is SessionState.live:
            live.video_dropped_at = utcnow()
            await session.flush()
            self._announce(
                session, live.id, "session_state", {"state": "live", "video": "reconnecting"}
            )

    async def end(
        self,
        session: AsyncSession,
        session_id: uuid.UUID,
        *,
        actor_id: uuid.UUID | None,
        reason: str,
    ) -> LiveSession:
        live = await repo.get_session_for_update(session, session_id)
        if live is None:
            raise SessionNotFound("No such live session.")
        target = SessionState.ended if live.state is SessionState.live else SessionState.cancelled
        await self._transition(session, live, target, actor_id=actor_id, reason=reason)
        live.ended_at = utcnow()
        current = await repo.current_pin(session, live.id)
        if current is not None:
            current.unpinned_at = live.ended_at
        await session.flush()
        outbox.record(
            session,
            events.SESSION_ENDED,
            aggregate_type="live_session",
            aggregate_id=live.id,
            payload={"session_id": live.id, "state": target.value, "ended_at": live.ended_at},
            actor_id=actor_id,
        )
        self._announce(session, live.id, "session_state", {"state": target.value})
        return live

    def media_time_ms(self, live: LiveSession, at: datetime) -> int | None:
        """Milliseconds into the stream at wall-clock `at` (None before the stream starts)."""
        if live.started_at is None:
            return None
        return max(0, int((at - live.started_at).total_seconds() * 1000))

    # -- the bag -------------------------------------------------------------------------------

    async def add_to_bag(
        self,
        session: AsyncSession,
        session_id: uuid.UUID,
        principal: Principal,
        product_ids: Sequence[uuid.UUID],
    ) -> list[BagItem]:
        live = await self.require_runner(session, session_id, principal)
        if live.state in (SessionState.ended, SessionState.cancelled):
            raise IllegalTransition("The bag of a finished session is kept as it was.")
        shops = set(await repo.shop_ids_of(session, live.id))
        added = []
        for product_id in dict.fromkeys(product_ids):
            product = await catalog_service.get_product(session, product_id)
            if product.shop_id not in shops:
                raise NotInBag(
                    "This product belongs to a shop the session does not feature.",
                    errors=[field_error("product_ids", str(product_id), code="foreign_shop")],
                )
            item = await repo.get_bag_item(session, live.id, product_id)
            if item is not None:
                if item.removed_at is not None:
                    item.removed_at = None
                    item.position = await repo.next_bag_position(session, live.id)
                added.append(item)
                continue
            item = BagItem(
                session_id=live.id,
                product_id=product_id,
                shop_id=product.shop_id,
                position=await repo.next_bag_position(session, live.id),
                added_by=principal.user_id,
            )
            session.add(item)
            await session.flush()
            added.append(item)
        self._announce(
            session,
            live.id,
            "bag_changed",
            {"product_ids": [str(p) for p in product_ids], "change": "added"},
        )
        return added

    async def remove_from_bag(
        self,
        session: AsyncSession,
        session_id: uuid.UUID,
        principal: Principal,
        product_id: uuid.UUID,
    ) -> None:
        live = await self.require_runner(session, session_id, principal)
        item = await repo.get_bag_item(session, live.id, product_id)
        if item is None or item.removed_at is not None:
            raise NotInBag("This product is not in the bag.")
        current = await repo.current_pin(session, live.id)
        if current is not None and current.product_id == product_id:
            await self.unpin(session, session_id, principal)
        item.removed_at = utcnow()
        await session.flush()
        self._announce(
            session, live.id, "bag_changed", {"product_ids": [str(product_id)], "change": "removed"}
        )

    async def reorder_bag(
        self,
        session: AsyncSession,
        session_id: uuid.UUID,
        principal: Principal,
        product_ids: Sequence[uuid.UUID],
    ) -> list[BagItem]:
        live = await self.require_runner(session, session_id, principal)
        items = await repo.list_bag(session, live.id)
        by_product = {i.product_id: i for i in items}
        if sorted(by_product, key=str) != sorted(set(product_ids), key=str) or len(
            product_ids
        ) != len(items):
            raise NotInBag(
                "Give every product in the bag exactly once.",
                errors=[
                    field_error("product_ids", "must list the bag's products", code="mismatch")
                ],
            )
        for position, product_id in enumerate(product_ids, start=1):
            by_product[product_id].position = position
        await session.flush()
        self._announce(
            session,
            live.id,
            "bag_changed",
            {"product_ids": [str(p) for p in product_ids], "change": "reordered"},
        )
        return await repo.list_bag(session, live.id)

    async def create_product_set(
        self,
        session: AsyncSession,
        shop_id: uuid.UUID,
        principal: Principal,
        *,
        name: str,
        product_ids: Sequence[uuid.UUID],
    ) -> ProductSet:
        """A reusable list of the shop's products, prepared before streams."""
        for product_id in dict.fromkeys(product_ids):
            product = await catalog_service.get_product(session, product_id)
            if product.shop_id != shop_id:
                raise NotInBag(
                    "Product sets hold the shop's own products.",
                    errors=[field_error("product_ids", str(product_id), code="foreign_shop")],
                )
        product_set = ProductSet(
            shop_id=shop_id,
            name=name,
            product_ids=[str(p) for p in dict.fromkeys(product_ids)],
            created_by=principal.user_id,
        )
        session.add(product_set)
        await session.flush()
        return product_set

    async def product_sets(self, session: AsyncSession, shop_id: uuid.UUID) -> list[ProductSet]:
        rows = await session.scalars(
            select(ProductSet).where(ProductSet.shop_id == shop_id).order_by(ProductSet.name)
        )
        return list(rows.all())

    async def add_set_to_bag(
        self,
        session: AsyncSession,
        session_id: uuid.UUID,
        principal: Principal,
        set_id: uuid.UUID,
    ) -> list[BagItem]:
        product_set = await session.get(ProductSet, set_id)
        shops = await repo.shop_ids_of(session, session_id)
        if product_set is None or product_set.shop_id not in shops:
            raise NotInBag(
                "No such product set for this session's shops.",
                status=404,
                code="product_set_not_found",
            )
        return await self.add_to_bag(
            session, session_id, principal, [uuid.UUID(p) for p in product_set.product_ids]
        )

    async def bag(self, session: AsyncSession, session_id: uuid.UUID) -> list[BagItem]:
        live = await self.get(session, session_id)
        return await repo.list_bag(session, live.id)

    # -- pins ----------------------------------------------------------------------------------

    async def pin(
        self,
        session: AsyncSession,
        session_id: uuid.UUID,
        principal: Principal,
        product_id: uuid.UUID,
        *,
        trace: dict[str, int] | None = None,
    ) -> Pin:
        """Pin a bag product; the previous pin ends at the same moment."""
        live = await self.require_runner(session, session_id, principal)
        if live.state is not SessionState.live:
            raise NotLive("Products are pinned while the session is live.")
        item = await repo.get_bag_item(session, live.id, product_id)
        if item is None or item.removed_at is not None:
            raise NotInBag(
                "Only products in the bag can be pinned.",
                errors=[field_error("product_id", "not in the bag", code="not_in_bag")],
            )
        now = utcnow()
        current = await repo.current_pin(session, live.id)
        if current is not None:
            current.unpinned_at = now
        pin = Pin(
            session_id=live.id,
            product_id=product_id,
            pinned_at=now,
            media_time_ms=self.media_time_ms(live, now),
            pinned_by=principal.user_id,
        )
        session.add(pin)
        await session.flush()
        outbox.record(
            session,
            events.PRODUCT_PINNED,
            aggregate_type="live_session",
            aggregate_id=live.id,
            payload={
                "session_id": live.id,
                "product_id": product_id,
                "pin_id": pin.id,
                "media_time_ms": pin.media_time_ms,
            },
            actor_id=principal.user_id,
        )
        self._announce(
            session,
            live.id,
            "pin",
            {
                "product_id": str(product_id),
                "pin_id": str(pin.id),
                "pinned_at": now.isoformat(),
                **({"trace": trace} if trace else {}),
            },
            pin.media_time_ms,
        )
        return pin

    async def unpin(
        self, session: AsyncSession, session_id: uuid.UUID, principal: Principal
    ) -> Pin | None:
        live = await self.require_runner(session, session_id, principal)
        current = await repo.current_pin(session, live.id)
        if current is None:
            return None
        now = utcnow()
        current.unpinned_at = now
        await session.flush()
        outbox.record(
            session,
            events.PRODUCT_UNPINNED,
            aggregate_type="live_session",
            aggregate_id=live.id,
            payload={"session_id": live.id, "product_id": current.product_id, "pin_id": current.id},
            actor_id=principal.user_id,
        )
        self._announce(
            session,
            live.id,
            "unpin",
            {"product_id": str(current.product_id), "pin_id": str(current.id)},
            self.media_time_ms(live, now),
        )
        return current

    async def current_pin(self, session: AsyncSession, session_id: uuid.UUID) -> Pin | None:
        return await repo.current_pin(session, session_id)

    async def replay_pins(self, session: AsyncSession, session_id: uuid.UUID) -> list[Pin]:
        """Every pin of a session in order, with its media time, for the shoppable replay."""
        live = await self.get(session, session_id)
        return await repo.list_pins(session, live.id)

    async def list_for_discovery(
        self, session: AsyncSession, *, market: str | None, limit: int = 50
    ) -> list[LiveSession]:
        """Sessions live now, then those scheduled next (for home pages and feeds)."""
        return await repo.list_sessions(
            session, states=[SessionState.live, SessionState.scheduled], market=market, limit=limit
        )

    # -- what viewers see --------------------------------------------------------------------

    async def product_card(
        self, session: AsyncSession, product_id: uuid.UUID, markets: Sequence[str]
    ) -> dict[str, Any]:
        """A product as a tag or bag entry shows it: title, image, and per market the price and
        stock where it can be bought there (a market where it is not on sale is left out)."""
        card: dict[str, Any] = {"product_id": str(product_id), "markets": {}}
        for market in markets:
            try:
                found = await catalog_service.product_for_buyer(session, product_id, market)
            except LiveloopError:
                continue
            card["title"] = found.product.title
            card["shop"] = found.shop.display_name
            if found.images and "image" not in card:
                card["image"] = self._image_url(found.images[0].storage_key)
            variants = [
                {
                    "variant_id": str(v.variant.id),
                    "label": " / ".join(str(x) for x in (v.variant.option_values or []))
                    or "Standard",
                    "price": v.price.amount,
                    "currency": v.price.currency,
                    "display": v.price.format(),
                    "available": int(v.available),
                }
                for v in found.variants
            ]
            card["markets"][market] = {
                "listing_id": str(found.listing.id),
                "price": found.price.amount,
                "currency": found.price.currency,
                "display": found.price.format(),
                "available": sum(int(v.available) for v in found.variants),
                "variants": variants,
            }
        card.setdefault("title", "")
        return card

    async def snapshot(self, session: AsyncSession, session_id: uuid.UUID) -> dict[str, Any]:
        """Everything a (re)joining viewer needs in one message (the hub adds the sequence)."""
        live = await self.get(session, session_id)
        pin = await repo.current_pin(session, live.id)
        bag = await repo.list_bag(session, live.id)
        sale = await self.flash.current(session, live.id)
        now = utcnow()
        return {
            "session": {
                "id": str(live.id),
                "title": live.title,
                "state": live.state.value,
                "markets": live.markets,
                "started_at": live.started_at.isoformat() if live.started_at else None,
                "video": "reconnecting" if live.video_dropped_at else "ok",
                "slow_mode_seconds": live.slow_mode_seconds,
            },
            "pinned": (
                {
                    "pin_id": str(pin.id),
                    "media_time_ms": pin.media_time_ms,
                    "pinned_at": pin.pinned_at.isoformat(),
                    "product": await self.product_card(session, pin.product_id, live.markets),
                }
                if pin is not None
                else None
            ),
            "bag": [await self.product_card(session, i.product_id, live.markets) for i in bag],
            "flash_sale": describe(sale, now) if sale is not None else None,
            "chat": [chat.message_out(m) for m in await chat.recent(session, live.id)],
            "now": now.isoformat(),
        }

    # -- flash sales ---------------------------------------------------------------------------

    async def create_flash_sale(
        self,
        session: AsyncSession,
        session_id: uuid.UUID,
        principal: Principal,
        *,
        product_id: uuid.UUID,
        variant_id: uuid.UUID,
        deal_prices: dict[str, int],
        quantity: int,
        per_buyer_cap: int,
        countdown_seconds: int,
        duration_minutes: int,
    ) -> Any:
        live = await self.require_runner(session, session_id, principal)
        if live.state not in (SessionState.live, SessionState.scheduled):
            raise NotLive("Flash sales run in a scheduled or live session.")
        item = await repo.get_bag_item(session, live.id, product_id)
        if item is None or item.removed_at is not None:
            raise NotInBag(
                "Only products in the bag can go on flash sale.",
                errors=[field_error("product_id", "not in the bag", code="not_in_bag")],
            )
        return await self.flash.create(
            session,
            live,
            product_id=product_id,
            variant_id=variant_id,
            deal_prices=deal_prices,
            quantity=quantity,
            per_buyer_cap=per_buyer_cap,
            countdown_seconds=countdown_seconds,
            duration_minutes=duration_minutes,
            actor_id=principal.user_id,
        )

    # -- chat ----------------------------------------------------------------------------------

    async def send_chat(
        self, session: AsyncSession, session_id: uuid.UUID, principal: Principal, body: str
    ) -> ChatMessage:
        """Store and broadcast a chat message, or refuse it (and broadcast nothing)."""
        if principal.user_id is None:
            raise Forbidden("Sign in to chat.")
        live = await self.get(session, session_id)
        text = await chat.check_can_write(
            session,
            live,
            user_id=principal.user_id,
            body=body,
            is_runner=await self.may_run(session, live, principal),
            limiter=self._limiter,
        )
        users = await self._accounts.get_users(session, [principal.user_id])
        now = utcnow()
        message = ChatMessage(
            session_id=live.id,
            user_id=principal.user_id,
            display_name=users[principal.user_id].display_name
            if principal.user_id in users
            else "viewer",
            body=text,
            sent_at=now,
            media_time_ms=self.media_time_ms(live, now),
        )
        session.add(message)
        await session.flush()
        self._announce(session, live.id, "chat", chat.message_out(message), message.media_time_ms)
        return message

    async def remove_chat(
        self,
        session: AsyncSession,
        session_id: uuid.UUID,
        principal: Principal,
        message_id: uuid.UUID,
    ) -> None:
        live = await self.require_runner(session, session_id, principal)
        message = await session.get(ChatMessage, message_id)
        if message is None or message.session_id != live.id:
            raise ChatInvalid(
                "No such message in this room.", status=404, code="chat_message_not_found"
            )
        if message.removed_at is None:
            message.removed_at = utcnow()
            message.removed_by = principal.user_id
            await session.flush()
            self._announce(session, live.id, "chat_removed", {"id": str(message.id)})

    async def sanction(
        self,
        session: AsyncSession,
        session_id: uuid.UUID,
        principal: Principal,
        *,
        user_id: uuid.UUID,
        kind: SanctionKind,
        minutes: int | None,
        reason: str,
    ) -> RoomSanction:
        live = await self.require_runner(session, session_id, principal)
        if user_id == live.host_user_id:
            raise ChatInvalid("The host cannot be muted or blocked.", code="cannot_sanction_host")
        row = RoomSanction(
            session_id=live.id,
            user_id=user_id,
            kind=kind,
            until=utcnow() + timedelta(minutes=minutes) if minutes else None,
            reason=reason,
            created_by=principal.user_id,
        )
        session.add(row)
        await session.flush()
        return row

    async def lift_sanctions(
        self, session: AsyncSession, session_id: uuid.UUID, principal: Principal, user_id: uuid.UUID
    ) -> None:
        live = await self.require_runner(session, session_id, principal)
        await chat.lift(session, live.id, user_id)

    async def is_blocked(
        self, session: AsyncSession, session_id: uuid.UUID, user_id: uuid.UUID
    ) -> bool:
        sanction = await chat.active_sanction(session, session_id, user_id, utcnow())
        return sanction is not None and sanction.kind is SanctionKind.block

    async def set_slow_mode(
        self, session: AsyncSession, session_id: uuid.UUID, principal: Principal, seconds: int
    ) -> None:
        live = await self.require_runner(session, session_id, principal)
        live.slow_mode_seconds = seconds
        await session.flush()
        self._announce(session, live.id, "slow_mode", {"seconds": seconds})

    # -- the host's live numbers ---------------------------------------------------------------

    async def record_activity(
        self,
        session: AsyncSession,
        session_id: uuid.UUID,
        *,
        kind: str,
        product_id: uuid.UUID | None,
        viewer_key: str | None,
        quantity: int = 1,
        amount: Money | None = None,
        reference: str | None = None,
    ) -> bool:
        """Count a tap, an add-to-cart or an order in the room; `reference` makes it count once."""
        row = RoomActivity(
            session_id=session_id,
            kind=kind,
            product_id=product_id,
            viewer_key=viewer_key,
            quantity=quantity,
            amount=amount.amount if amount else 0,
            currency=amount.currency if amount else None,
            reference=reference,
        )
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            return False  # the same order or event, delivered again
        self._announce(session, session_id, "numbers_changed", {"kind": kind})
        if kind == "order":
            self._announce(
                session,
                session_id,
                "someone_bought",
                {"product_id": str(product_id) if product_id else None, "quantity": quantity},
            )
        return True

    async def numbers(
        self,
        session: AsyncSession,
        session_id: uuid.UUID,
        *,
        viewers_now: int,
        viewers_peak: int,
        viewers_unique: int,
    ) -> dict[str, Any]:
        """Viewers, taps and click-through per product, add-to-carts, orders, units, GMV per
        currency and conversion, from the room's counted activity."""
        rows = (
            await session.execute(
                select(
                    RoomActivity.kind,
                    RoomActivity.product_id,
                    RoomActivity.currency,
                    func.count(),
                    func.count(func.distinct(RoomActivity.viewer_key)),
                    func.sum(RoomActivity.quantity),
                    func.sum(RoomActivity.amount),
                )
                .where(RoomActivity.session_id == session_id)
                .group_by(RoomActivity.kind, RoomActivity.product_id, RoomActivity.currency)
            )
        ).all()
        buyers = await session.scalar(
            select(func.count(func.distinct(RoomActivity.viewer_key))).where(
                RoomActivity.session_id == session_id, RoomActivity.kind == "order"
            )
        )
        per_product: dict[str, dict[str, Any]] = {}
        totals = {"taps": 0, "add_to_carts": 0, "orders": 0, "units": 0}
        gmv: dict[str, int] = {}
        for kind, product_id, currency, count, distinct, units, amount in rows:
            key = str(product_id) if product_id else "-"
            entry = per_product.setdefault(
                key, {"taps": 0, "tappers": 0, "add_to_carts": 0, "orders": 0, "units": 0}
            )
            if kind == "tap":
                entry["taps"] += count
                entry["tappers"] += distinct
                totals["taps"] += count
            elif kind == "add_to_cart":
                entry["add_to_carts"] += count
                totals["add_to_carts"] += count
            elif kind == "order":
                entry["orders"] += count
                entry["units"] += int(units or 0)
                totals["orders"] += count
                totals["units"] += int(units or 0)
                if currency:
                    gmv[currency] = gmv.get(currency, 0) + int(amount or 0)
        for entry in per_product.values():
            entry["click_through_rate"] = _rate(entry["tappers"], viewers_unique)
        return {
            "viewers": {"now": viewers_now, "peak": viewers_peak, "unique": viewers_unique},
            **totals,
            "gmv": [
                {"currency": c, "amount": a, "display": Money(a, c).format()}
                for c, a in sorted(gmv.items())
            ],
            "conversion_rate": _rate(int(buyers or 0), viewers_unique),
            "products": per_product,
        }


def _rate(part: int, whole: int) -> str:
    """A ratio as a decimal string with 4 places (exact, no float)."""
    if whole <= 0:
        return "0.0000"
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")))
