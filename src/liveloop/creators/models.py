"""Creators' tables: profiles, follows and daily follower counts, notifications, shoppable videos,
affiliate offers and invitations, storefronts, attribution touches and commissions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from liveloop.kit.db import Base, IdMixin, JSONType, TimestampMixin, str_enum, utcnow

RATE = Numeric(5, 4)
"""A commission rate as a fraction (0.1500 is 15%)."""


class Creator(IdMixin, TimestampMixin, Base):
    """A user's public creator profile."""

    __tablename__ = "creators"

    user_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    handle: Mapped[str] = mapped_column(String(30), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    bio: Mapped[str] = mapped_column(Text, default="")
    avatar_key: Mapped[str | None] = mapped_column(String(300))
    markets: Mapped[list[str]] = mapped_column(JSONType)
    categories: Mapped[list[str]] = mapped_column(JSONType)
    followers_count: Mapped[int] = mapped_column(default=0)

    __table_args__ = (CheckConstraint("followers_count >= 0", name="followers_not_negative"),)


class Follow(Base):
    __tablename__ = "creator_follows"

    creator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    follower_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    followed_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowerDay(Base):
    """A creator's followers at the end of a day (UTC) and that day's gains and losses; a day
    without changes has no row, and carries the count of the last day before it."""

    __tablename__ = "creator_follower_days"

    creator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    followers: Mapped[int]
    gained: Mapped[int] = mapped_column(default=0)
    lost: Mapped[int] = mapped_column(default=0)


class Notification(IdMixin, Base):
    """An entry of a user's in-app feed."""

    __tablename__ = "notifications"

    user_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    """The same happening notifies a user once, however often its event is delivered."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_user_id_id", "user_id", "id"),
    )


class OfferAudience(StrEnum):
    open = "open"
    invited = "invited"


class AffiliateOffer(IdMixin, TimestampMixin, Base):
    """A shop opens one product to creators at a commission rate, for a period. The rate never
    changes: a new rate is a new offer, so every commission keeps the terms it was earned on."""

    __tablename__ = "affiliate_offers"

    shop_id: Mapped[uuid.UUID] = mapped_column(index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(index=True)
    commission_rate: Mapped[Decimal] = mapped_column(RATE)
    audience: Mapped[OfferAudience] = mapped_column(str_enum(OfferAudience))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint(
            "commission_rate >= 0.01 AND commission_rate <= 0.80", name="rate_in_range"
        ),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )


class AffiliateInvitation(Base):
    __tablename__ = "affiliate_invitations"

    offer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("affiliate_offers.id", ondelete="CASCADE"), primary_key=True
    )
    creator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)


class StorefrontItem(IdMixin, Base):
    """A product a creator showcases, from a shop's offer, with the creator's own note."""

    __tablename__ = "storefront_items"

    creator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    offer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("affiliate_offers.id"))
    product_id: Mapped[uuid.UUID]
    shop_id: Mapped[uuid.UUID]
    position: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("creator_id", "product_id"),)


class VideoStatus(StrEnum):
    draft = "draft"
    published = "published"
    removed = "removed"


class ShortVideo(IdMixin, TimestampMixin, Base):
    """A shoppable short video by a creator or a shop; the file itself is a media asset."""

    __tablename__ = "short_videos"

    author_user_id: Mapped[uuid.UUID]
    creator_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    shop_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    video_asset_id: Mapped[uuid.UUID]
    caption: Mapped[str] = mapped_column(Text, default="")
    hashtags: Mapped[list[str]] = mapped_column(JSONType)
    markets: Mapped[list[str]] = mapped_column(JSONType)
    status: Mapped[VideoStatus] = mapped_column(str_enum(VideoStatus), default=VideoStatus.draft)
    published_at: Mapped[datetime | None]
    view_count: Mapped[int] = mapped_column(default=0)
    like_count: Mapped[int] = mapped_column(default=0)
    share_count: Mapped[int] = mapped_column(default=0)
    comment_count: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        CheckConstraint("(creator_id IS NULL) <> (shop_id IS NULL)", name="one_author_kind"),
        Index("ix_short_videos_status_published_at", "status", "published_at"),
    )


class VideoAnchor(Base):
    """A product linked at the bottom of a video."""

    __tablename__ = "short_video_anchors"

    video_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("short_videos.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    shop_id: Mapped[uuid.UUID]
    offer_id: Mapped[uuid.UUID | None]
    position: Mapped[int]


class VideoLike(Base):
    __tablename__ = "short_video_likes"

    video_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("short_videos.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    liked_at: Mapped[datetime] = mapped_column(default=utcnow)


class VideoComment(IdMixin, Base):
    __tablename__ = "short_video_comments"

    video_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("short_videos.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_short_video_comments_video_id_id", "video_id", "id"),)


class SourceKind(StrEnum):
    live = "live"
    video = "video"
    storefront = "storefront"


class Touch(IdMixin, Base):
    """A buyer (or a guest's cart) came to a product from a creator's live session, video or
    storefront: the evidence attribution reads, last touch first."""

    __tablename__ = "attribution_touches"

    creator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    buyer_id: Mapped[uuid.UUID | None]
    cart_token: Mapped[str | None] = mapped_column(String(100))
    product_id: Mapped[uuid.UUID]
    source_kind: Mapped[SourceKind] = mapped_column(str_enum(SourceKind))
    source_id: Mapped[uuid.UUID]
    touched_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("buyer_id IS NOT NULL OR cart_token IS NOT NULL", name="has_visitor"),
        Index("ix_attribution_touches_buyer", "buyer_id", "product_id", "touched_at"),
        Index("ix_attribution_touches_cart", "cart_token", "product_id", "touched_at"),
    )


class CommissionStatus(StrEnum):
    held = "held"
    available = "available"
    paid_out = "paid_out"
    reversed = "reversed"


class Commission(IdMixin, Base):
    """A creator's commission on one order line: the rate times the line's net value, held until the
    return window closes, reduced by reversals in proportion to refunds."""

    __tablename__ = "creator_commissions"

    creator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("creators.id"), index=True)
    shop_id: Mapped[uuid.UUID] = mapped_column(index=True)
    product_id: Mapped[uuid.UUID]
    order_id: Mapped[uuid.UUID]
    order_line_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    offer_id: Mapped[uuid.UUID | None]
    source_kind: Mapped[SourceKind] = mapped_column(str_enum(SourceKind))
    source_id: Mapped[uuid.UUID]
    rate: Mapped[Decimal] = mapped_column(RATE)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int]
    net_amount: Mapped[int] = mapped_column(BigInteger)
    """The line's value after discounts, without taxes and shipping, in minor units."""
    amount: Mapped[int] = mapped_column(BigInteger)
    """The commission as earned."""
    reversed_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_net_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    earned_at: Mapped[datetime]
    hold_until: Mapped[datetime]
    paid_out_at: Mapped[datetime | None]
    payout_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        CheckConstraint("amount >= 0 AND net_amount >= 0", name="amounts_not_negative"),
        CheckConstraint("reversed_amount <= amount", name="reversal_within_amount"),
        Index("ix_creator_commissions_creator_earned", "creator_id", "earned_at"),
    )


class CommissionReversal(IdMixin, Base):
    """The part of a commission taken back for one refund (one row per refund and line)."""

    __tablename__ = "creator_commission_reversals"

    commission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("creator_commissions.id", ondelete="CASCADE")
    )
    refund_id: Mapped[str] = mapped_column(String(100))
    refunded_net_amount: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    reversed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("commission_id", "refund_id"),)
