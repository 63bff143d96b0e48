"""Every query the live context makes, named by what it is for."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.live.models import (
    BagItem,
    LiveSession,
    LiveSessionModerator,
    LiveSessionShop,
    Pin,
    SessionState,
)


async def get_session(session: AsyncSession, session_id: uuid.UUID) -> LiveSession | None:
    return await session.get(LiveSession, session_id)


async def get_session_for_update(
    session: AsyncSession, session_id: uuid.UUID
) -> LiveSession | None:
    return await session.scalar(
        select(LiveSession).where(LiveSession.id == session_id).with_for_update()
    )


async def shop_ids_of(session: AsyncSession, session_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(LiveSessionShop.shop_id).where(LiveSessionShop.session_id == session_id)
    )
    return list(rows.all())


async def moderator_ids_of(session: AsyncSession, session_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(LiveSessionModerator.user_id).where(LiveSessionModerator.session_id == session_id)
    )
    return list(rows.all())


async def list_bag(session: AsyncSession, session_id: uuid.UUID) -> list[BagItem]:
    rows = await session.scalars(
        select(BagItem)
        .where(BagItem.session_id == session_id, BagItem.removed_at.is_(None))
        .order_by(BagItem.position, BagItem.added_at)
    )
    return list(rows.all())


async def get_bag_item(
    session: AsyncSession, session_id: uuid.UUID, product_id: uuid.UUID
) -> BagItem | None:
    return await session.scalar(
        select(BagItem).where(BagItem.session_id == session_id, BagItem.product_id == product_id)
    )


async def next_bag_position(session: AsyncSession, session_id: uuid.UUID) -> int:
    top = await session.scalar(
        select(func.max(BagItem.position)).where(BagItem.session_id == session_id)
    )
    return (top or 0) + 1


async def current_pin(session: AsyncSession, session_id: uuid.UUID) -> Pin | None:
    return await session.scalar(
        select(Pin)
        .where(Pin.session_id == session_id, Pin.unpinned_at.is_(None))
        .order_by(Pin.pinned_at.desc())
        .limit(1)
    )


async def list_pins(session: AsyncSession, session_id: uuid.UUID) -> list[Pin]:
    rows = await session.scalars(
        select(Pin).where(Pin.session_id == session_id).order_by(Pin.pinned_at, Pin.id)
    )
    return list(rows.all())


async def list_sessions(
    session: AsyncSession,
    *,
    states: list[SessionState],
    starts_before: datetime | None = None,
    market: str | None = None,
    limit: int = 50,
) -> list[LiveSession]:
    stmt = select(LiveSession).where(LiveSession.state.in_(states))
    if starts_before is not None:
        stmt = stmt.where(LiveSession.scheduled_start <= starts_before)
    rows = list(
        (await session.scalars(stmt.order_by(LiveSession.scheduled_start).limit(limit * 4))).all()
    )
    if market is not None:
        rows = [r for r in rows if market in r.markets]
    return rows[:limit]
