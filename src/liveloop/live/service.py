"""Live sessions: scheduling across time zones, their states, the bag, pins and their media
times (for tags in step with the picture and shoppable replays).

Other contexts call this module (imported as `live_service`), never live's tables. Room events
are broadcast through the `broadcast` callable given to `Live`, only after the change commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.service import Principal
from liveloop.catalog import service as catalog_service
from liveloop.kit import outbox
from liveloop.kit.db import after_commit, utcnow
from liveloop.kit.errors import Forbidden, field_error
from liveloop.live import events
from liveloop.live import repository as repo
from liveloop.live.errors import (
    IllegalTransition,
    InvalidSchedule,
    NotHost,
    NotInBag,
    NotLive,
    SessionNotFound,
)
from liveloop.live.models import (
    BagItem,
    LiveSession,
    LiveSessionModerator,
    LiveSessionShop,
    Pin,
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
    def __init__(self, *, broadcast: Broadcast | None = None) -> None:
        self._broadcast = broadcast or _no_broadcast

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
            {"product_id": str(product_id), "pin_id": str(pin.id), "pinned_at": now.isoformat()},
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
