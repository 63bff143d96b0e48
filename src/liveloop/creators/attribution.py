"""Attribution: touches (a buyer came to a product from a creator's live session, video or
storefront) and the last touch within the platform's window that credits an order line."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.creators import repository as repo
from liveloop.creators.errors import SourceNotFound
from liveloop.creators.models import SourceKind, Touch, VideoStatus
from liveloop.creators.rules import rules_at
from liveloop.kit.db import utcnow
from liveloop.kit.errors import LiveloopError
from liveloop.live.service import Live


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who an order line is credited to, from where, and on what terms."""

    creator_id: uuid.UUID
    source_kind: SourceKind
    source_id: uuid.UUID
    offer_id: uuid.UUID
    commission_rate: Decimal
    touched_at: datetime


async def creator_of_source(
    session: AsyncSession,
    live: Live,
    *,
    source_kind: SourceKind,
    source_id: uuid.UUID,
    product_id: uuid.UUID,
) -> uuid.UUID | None:
    """The creator a product seen at this source is credited to; None when the source is a
    shop's own (a shop's video, a live session hosted by shop staff). SourceNotFound when the
    source does not exist or does not show the product."""
    missing = SourceNotFound(f"No {source_kind.value} {source_id} showing this product.")
    if source_kind is SourceKind.video:
        video = await repo.get_video(session, source_id)
        if (
            video is None
            or video.status is not VideoStatus.published
            or await repo.get_anchor(session, video.id, product_id) is None
        ):
            raise missing
        return video.creator_id
    if source_kind is SourceKind.storefront:
        item = await repo.get_storefront_item_by_id(session, source_id)
        if item is None or item.product_id != product_id:
            raise missing
        return item.creator_id
    try:
        session_live = await live.get(session, source_id)
    except LiveloopError as exc:
        raise missing from exc
    if product_id not in {b.product_id for b in await live.bag(session, session_live.id)}:
        raise missing
    host = await repo.get_creator_of_user(session, session_live.host_user_id)
    return host.id if host is not None else None


async def record_touch(
    session: AsyncSession,
    live: Live,
    *,
    source_kind: SourceKind,
    source_id: uuid.UUID,
    product_id: uuid.UUID,
    buyer_id: uuid.UUID | None,
    cart_token: str | None,
    at: datetime | None = None,
) -> Touch | None:
    """Remember that this visitor came to the product from a creator's source; None (nothing
    recorded) when the source is a shop's own or there is no visitor to remember."""
    creator_id = await creator_of_source(
        session, live, source_kind=source_kind, source_id=source_id, product_id=product_id
    )
    if creator_id is None or (buyer_id is None and not cart_token):
        return None
    touch = Touch(
        creator_id=creator_id,
        buyer_id=buyer_id,
        cart_token=cart_token or None,
        product_id=product_id,
        source_kind=source_kind,
        source_id=source_id,
        touched_at=at or utcnow(),
    )
    session.add(touch)
    await session.flush()
    return touch


async def claim_guest_touches(session: AsyncSession, cart_token: str, buyer_id: uuid.UUID) -> int:
    """A guest signed in: their cart's touches become theirs (call when the carts merge)."""
    return await repo.claim_guest_touches(session, cart_token, buyer_id)


async def attribute(
    session: AsyncSession,
    *,
    buyer_id: uuid.UUID | None,
    product_id: uuid.UUID,
    at: datetime,
    cart_token: str | None = None,
) -> Attribution | None:
    """The creator an order line of `product_id` bought at `at` is credited to: the buyer's last
    touch within the attribution window, if that creator has an offer on the product then."""
    window = rules_at(at).attribution_window
    touch = await repo.last_touch(
        session,
        buyer_id=buyer_id,
        cart_token=cart_token,
        product_id=product_id,
        since=at - window,
        until=at,
    )
    if touch is None:
        return None
    offer = await repo.offer_for_creator(session, product_id, touch.creator_id, at)
    if offer is None:
        return None
    return Attribution(
        creator_id=touch.creator_id,
        source_kind=touch.source_kind,
        source_id=touch.source_id,
        offer_id=offer.id,
        commission_rate=offer.commission_rate,
        touched_at=touch.touched_at,
    )
