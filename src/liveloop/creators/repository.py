"""Every query creators makes, named by what it is for."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.creators.models import (
    AffiliateInvitation,
    AffiliateOffer,
    Commission,
    CommissionReversal,
    Creator,
    Follow,
    FollowerDay,
    Notification,
    OfferAudience,
    ShortVideo,
    StorefrontItem,
    Touch,
    VideoAnchor,
    VideoComment,
    VideoLike,
    VideoStatus,
)
from liveloop.kit.db import utcnow


def _insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT that can say ON CONFLICT, in the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


# -- creators and follows ------------------------------------------------------------------


async def get_creator(session: AsyncSession, creator_id: uuid.UUID) -> Creator | None:
    return await session.get(Creator, creator_id)


async def get_creator_by_handle(session: AsyncSession, handle: str) -> Creator | None:
    return await session.scalar(select(Creator).where(Creator.handle == handle.lower()))


async def get_creator_of_user(session: AsyncSession, user_id: uuid.UUID) -> Creator | None:
    return await session.scalar(select(Creator).where(Creator.user_id == user_id))


async def get_creators(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Creator]:
    if not ids:
        return {}
    rows = await session.scalars(select(Creator).where(Creator.id.in_(set(ids))))
    return {c.id: c for c in rows.all()}


async def get_follow(
    session: AsyncSession, creator_id: uuid.UUID, follower_id: uuid.UUID
) -> Follow | None:
    return await session.get(Follow, (creator_id, follower_id))


async def insert_follow(
    session: AsyncSession, creator_id: uuid.UUID, follower_id: uuid.UUID
) -> bool:
    """Add the follow unless it exists; True when this call added it."""
    stmt = (
        _insert(session, Follow)
        .values(creator_id=creator_id, follower_id=follower_id, followed_at=utcnow())
        .on_conflict_do_nothing()
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_follow(
    session: AsyncSession, creator_id: uuid.UUID, follower_id: uuid.UUID
) -> bool:
    result = await session.execute(
        delete(Follow).where(Follow.creator_id == creator_id, Follow.follower_id == follower_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add_to_followers_count(session: AsyncSession, creator_id: uuid.UUID, delta: int) -> int:
    """Change the count in one statement (the row lock orders concurrent follows); the new
    count."""
    count = await session.scalar(
        update(Creator)
        .where(Creator.id == creator_id)
        .values(followers_count=Creator.followers_count + delta)
        .returning(Creator.followers_count)
        .execution_options(synchronize_session=False)
    )
    return int(count or 0)


async def record_follower_day(
    session: AsyncSession,
    creator_id: uuid.UUID,
    day: date,
    *,
    followers: int,
    gained: int,
    lost: int,
) -> None:
    stmt = _insert(session, FollowerDay).values(
        creator_id=creator_id, day=day, followers=followers, gained=gained, lost=lost
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[FollowerDay.creator_id, FollowerDay.day],
        set_={
            "followers": stmt.excluded.followers,
            "gained": FollowerDay.gained + stmt.excluded.gained,
            "lost": FollowerDay.lost + stmt.excluded.lost,
        },
    )
    await session.execute(stmt)


async def follower_days(
    session: AsyncSession, creator_id: uuid.UUID, start: date, end: date
) -> tuple[int, list[FollowerDay]]:
    """Followers at the end of the day before `start`, and the day rows from `start` to `end`."""
    before = await session.scalar(
        select(FollowerDay.followers)
        .where(FollowerDay.creator_id == creator_id, FollowerDay.day < start)
        .order_by(FollowerDay.day.desc())
        .limit(1)
    )
    rows = await session.scalars(
        select(FollowerDay)
        .where(
            FollowerDay.creator_id == creator_id,
            FollowerDay.day >= start,
            FollowerDay.day <= end,
        )
        .order_by(FollowerDay.day)
    )
    return int(before or 0), list(rows.all())


async def follower_ids(session: AsyncSession, creator_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(Follow.follower_id)
        .where(Follow.creator_id == creator_id)
        .order_by(Follow.followed_at)
    )
    return list(rows.all())


def followed_by_stmt(user_id: uuid.UUID) -> Select[Creator]:
    return (
        select(Creator)
        .join(Follow, Follow.creator_id == Creator.id)
        .where(Follow.follower_id == user_id)
    )


# -- notifications -------------------------------------------------------------------------


async def insert_notifications(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert the feed entries that are not there yet (same user and dedupe key); how many."""
    if not rows:
        return 0
    stmt = (
        _insert(session, Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[Notification.user_id, Notification.dedupe_key])
    )
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def existing_notification_users(
    session: AsyncSession, dedupe_key: str, user_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    rows = await session.scalars(
        select(Notification.user_id).where(
            Notification.dedupe_key == dedupe_key, Notification.user_id.in_(set(user_ids))
        )
    )
    return set(rows.all())


def notifications_stmt(user_id: uuid.UUID, *, unread_only: bool) -> Select[Notification]:
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt


async def count_unread(session: AsyncSession, user_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


async def get_notification_of_user(
    session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification | None:
    return await session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    )


async def mark_all_read(session: AsyncSession, user_id: uuid.UUID, at: datetime) -> int:
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=at)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- affiliate offers ----------------------------------------------------------------------


async def get_offer(session: AsyncSession, offer_id: uuid.UUID) -> AffiliateOffer | None:
    return await session.get(AffiliateOffer, offer_id)


async def get_offer_of_shop(
    session: AsyncSession, shop_id: uuid.UUID, offer_id: uuid.UUID
) -> AffiliateOffer | None:
    return await session.scalar(
        select(AffiliateOffer).where(
            AffiliateOffer.id == offer_id, AffiliateOffer.shop_id == shop_id
        )
    )


def offers_of_shop_stmt(shop_id: uuid.UUID) -> Select[AffiliateOffer]:
    return select(AffiliateOffer).where(AffiliateOffer.shop_id == shop_id)


async def overlapping_offers(
    session: AsyncSession, product_id: uuid.UUID, starts_at: datetime, ends_at: datetime
) -> list[AffiliateOffer]:
    rows = await session.scalars(
        select(AffiliateOffer).where(
            AffiliateOffer.product_id == product_id,
            AffiliateOffer.starts_at < ends_at,
            AffiliateOffer.ends_at > starts_at,
        )
    )
    return list(rows.all())


def _open_to(creator_id: uuid.UUID) -> Any:
    invited = select(AffiliateInvitation.offer_id).where(
        AffiliateInvitation.creator_id == creator_id
    )
    return or_(
        AffiliateOffer.audience == OfferAudience.open,
        AffiliateOffer.id.in_(invited),
    )


async def offer_for_creator(
    session: AsyncSession, product_id: uuid.UUID, creator_id: uuid.UUID, at: datetime
) -> AffiliateOffer | None:
    """The offer on the product that the creator may use at `at`."""
    return await session.scalar(
        select(AffiliateOffer)
        .where(
            AffiliateOffer.product_id == product_id,
            AffiliateOffer.starts_at <= at,
            AffiliateOffer.ends_at > at,
            _open_to(creator_id),
        )
        .order_by(AffiliateOffer.starts_at.desc())
        .limit(1)
    )


def offers_open_to_stmt(creator_id: uuid.UUID, at: datetime) -> Select[AffiliateOffer]:
    return select(AffiliateOffer).where(
        AffiliateOffer.starts_at <= at, AffiliateOffer.ends_at > at, _open_to(creator_id)
    )


async def is_invited(session: AsyncSession, offer_id: uuid.UUID, creator_id: uuid.UUID) -> bool:
    return await session.get(AffiliateInvitation, (offer_id, creator_id)) is not None


async def invitations_of_offer(
    session: AsyncSession, offer_id: uuid.UUID
) -> list[AffiliateInvitation]:
    rows = await session.scalars(
        select(AffiliateInvitation)
        .where(AffiliateInvitation.offer_id == offer_id)
        .order_by(AffiliateInvitation.invited_at)
    )
    return list(rows.all())


# -- storefronts ---------------------------------------------------------------------------


async def storefront_of(
    session: AsyncSession, creator_id: uuid.UUID
) -> list[tuple[StorefrontItem, AffiliateOffer]]:
    rows = await session.execute(
        select(StorefrontItem, AffiliateOffer)
        .join(AffiliateOffer, AffiliateOffer.id == StorefrontItem.offer_id)
        .where(StorefrontItem.creator_id == creator_id)
        .order_by(StorefrontItem.position, StorefrontItem.id)
    )
    return [(item, offer) for item, offer in rows.all()]


async def get_storefront_item(
    session: AsyncSession, creator_id: uuid.UUID, item_id: uuid.UUID
) -> StorefrontItem | None:
    return await session.scalar(
        select(StorefrontItem).where(
            StorefrontItem.id == item_id, StorefrontItem.creator_id == creator_id
        )
    )


async def get_storefront_item_by_id(
    session: AsyncSession, item_id: uuid.UUID
) -> StorefrontItem | None:
    return await session.get(StorefrontItem, item_id)


async def storefront_item_for_product(
    session: AsyncSession, creator_id: uuid.UUID, product_id: uuid.UUID
) -> StorefrontItem | None:
    return await session.scalar(
        select(StorefrontItem).where(
            StorefrontItem.creator_id == creator_id, StorefrontItem.product_id == product_id
        )
    )


async def next_storefront_position(session: AsyncSession, creator_id: uuid.UUID) -> int:
    top = await session.scalar(
        select(func.max(StorefrontItem.position)).where(StorefrontItem.creator_id == creator_id)
    )
    return 0 if top is None else int(top) + 1


# -- videos --------------------------------------------------------------------------------


async def get_video(session: AsyncSession, video_id: uuid.UUID) -> ShortVideo | None:
    return await session.get(ShortVideo, video_id)


async def anchors_of(session: AsyncSession, video_id: uuid.UUID) -> list[VideoAnchor]:
    rows = await session.scalars(
        select(VideoAnchor).where(VideoAnchor.video_id == video_id).order_by(VideoAnchor.position)
    )
    return list(rows.all())


async def get_anchor(
    session: AsyncSession, video_id: uuid.UUID, product_id: uuid.UUID
) -> VideoAnchor | None:
    return await session.get(VideoAnchor, (video_id, product_id))


def published_videos_stmt(
    *, creator_id: uuid.UUID | None = None, shop_id: uuid.UUID | None = None, market: str | None
) -> Select[ShortVideo]:
    stmt = select(ShortVideo).where(ShortVideo.status == VideoStatus.published)
    if creator_id is not None:
        stmt = stmt.where(ShortVideo.creator_id == creator_id)
    if shop_id is not None:
        stmt = stmt.where(ShortVideo.shop_id == shop_id)
    return stmt


async def insert_like(session: AsyncSession, video_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    stmt = (
        _insert(session, VideoLike)
        .values(video_id=video_id, user_id=user_id, liked_at=utcnow())
        .on_conflict_do_nothing()
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_like(session: AsyncSession, video_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(VideoLike).where(VideoLike.video_id == video_id, VideoLike.user_id == user_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def has_liked(session: AsyncSession, video_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return await session.get(VideoLike, (video_id, user_id)) is not None


async def add_to_counter(
    session: AsyncSession, video_id: uuid.UUID, counter: str, delta: int
) -> int:
    column = getattr(ShortVideo, counter)
    value = await session.scalar(
        update(ShortVideo)
        .where(ShortVideo.id == video_id)
        .values({counter: column + delta})
        .returning(column)
        .execution_options(synchronize_session=False)
    )
    return int(value or 0)


def comments_stmt(video_id: uuid.UUID) -> Select[VideoComment]:
    return select(VideoComment).where(
        VideoComment.video_id == video_id, VideoComment.removed_at.is_(None)
    )


async def get_comment(
    session: AsyncSession, video_id: uuid.UUID, comment_id: uuid.UUID
) -> VideoComment | None:
    return await session.scalar(
        select(VideoComment).where(VideoComment.id == comment_id, VideoComment.video_id == video_id)
    )


# -- attribution ---------------------------------------------------------------------------


async def last_touch(
    session: AsyncSession,
    *,
    buyer_id: uuid.UUID | None,
    cart_token: str | None,
    product_id: uuid.UUID,
    since: datetime,
    until: datetime,
) -> Touch | None:
    visitor = []
    if buyer_id is not None:
        visitor.append(Touch.buyer_id == buyer_id)
    if cart_token is not None:
        visitor.append(Touch.cart_token == cart_token)
    if not visitor:
        return None
    return await session.scalar(
        select(Touch)
        .where(
            or_(*visitor),
            Touch.product_id == product_id,
            and_(Touch.touched_at > since, Touch.touched_at <= until),
        )
        .order_by(Touch.touched_at.desc(), Touch.id.desc())
        .limit(1)
    )


async def claim_guest_touches(session: AsyncSession, cart_token: str, buyer_id: uuid.UUID) -> int:
    result = await session.execute(
        update(Touch)
        .where(Touch.cart_token == cart_token, Touch.buyer_id.is_(None))
        .values(buyer_id=buyer_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- commissions ---------------------------------------------------------------------------


async def get_commission_of_line(
    session: AsyncSession, order_line_id: uuid.UUID, *, for_update: bool = False
) -> Commission | None:
    stmt = select(Commission).where(Commission.order_line_id == order_line_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def commissions_of_order(session: AsyncSession, order_id: uuid.UUID) -> list[Commission]:
    rows = await session.scalars(
        select(Commission).where(Commission.order_id == order_id).order_by(Commission.id)
    )
    return list(rows.all())


async def get_reversal(
    session: AsyncSession, commission_id: uuid.UUID, refund_id: str
) -> CommissionReversal | None:
    return await session.scalar(
        select(CommissionReversal).where(
            CommissionReversal.commission_id == commission_id,
            CommissionReversal.refund_id == refund_id,
        )
    )


async def commissions_earned_between(
    session: AsyncSession,
    *,
    creator_id: uuid.UUID | None = None,
    shop_id: uuid.UUID | None = None,
    start: datetime,
    end: datetime,
) -> list[Commission]:
    stmt = select(Commission).where(Commission.earned_at >= start, Commission.earned_at < end)
    if creator_id is not None:
        stmt = stmt.where(Commission.creator_id == creator_id)
    if shop_id is not None:
        stmt = stmt.where(Commission.shop_id == shop_id)
    rows = await session.scalars(stmt.order_by(Commission.earned_at, Commission.id))
    return list(rows.all())


async def reversals_between(
    session: AsyncSession,
    *,
    creator_id: uuid.UUID | None = None,
    shop_id: uuid.UUID | None = None,
    start: datetime,
    end: datetime,
) -> list[tuple[CommissionReversal, Commission]]:
    stmt = (
        select(CommissionReversal, Commission)
        .join(Commission, Commission.id == CommissionReversal.commission_id)
        .where(CommissionReversal.reversed_at >= start, CommissionReversal.reversed_at < end)
    )
    if creator_id is not None:
        stmt = stmt.where(Commission.creator_id == creator_id)
    if shop_id is not None:
        stmt = stmt.where(Commission.shop_id == shop_id)
    rows = await session.execute(
        stmt.order_by(CommissionReversal.reversed_at, CommissionReversal.id)
    )
    return [(r, c) for r, c in rows.all()]


async def payable_commissions(
    session: AsyncSession, creator_id: uuid.UUID, at: datetime
) -> list[Commission]:
    rows = await session.scalars(
        select(Commission)
        .where(
            Commission.creator_id == creator_id,
            Commission.hold_until <= at,
            Commission.paid_out_at.is_(None),
            Commission.amount > Commission.reversed_amount,
        )
        .order_by(Commission.earned_at, Commission.id)
        .with_for_update()
    )
    return list(rows.all())
