"""Live's tables: sessions and their state history, moderators, the bag, product sets, pins."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liveloop.kit.db import Base, IdMixin, JSONType, TimestampMixin, str_enum, utcnow


class SessionState(StrEnum):
    scheduled = "scheduled"
    live = "live"
    ended = "ended"
    cancelled = "cancelled"


class LiveSession(IdMixin, TimestampMixin, Base):
    """A live stream: hosted by a shop's staff, or by a creator for one or more shops."""

    __tablename__ = "live_sessions"

    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    cover_key: Mapped[str | None] = mapped_column(String(300))
    host_user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    shop_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    markets: Mapped[list[str]] = mapped_column(JSONType)
    host_time_zone: Mapped[str] = mapped_column(String(64))
    scheduled_start: Mapped[datetime]
    scheduled_end: Mapped[datetime]
    state: Mapped[SessionState] = mapped_column(
        str_enum(SessionState), default=SessionState.scheduled
    )
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    video_dropped_at: Mapped[datetime | None]
    slow_mode_seconds: Mapped[int] = mapped_column(default=0)

    __table_args__ = (Index("ix_live_sessions_state_start", "state", "scheduled_start"),)


class LiveSessionShop(Base):
    """A shop whose products a session features (the host's own, or a creator's partners)."""

    __tablename__ = "live_session_shops"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    shop_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class LiveSessionModerator(Base):
    __tablename__ = "live_session_moderators"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class SessionStateChange(IdMixin, Base):
    """Every change of a session's state, with who, when and why."""

    __tablename__ = "live_session_state_changes"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None]
    reason: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class BagItem(IdMixin, Base):
    """A product featured in a session; it stays in the bag after the stream ends."""

    __tablename__ = "live_bag_items"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[uuid.UUID]
    shop_id: Mapped[uuid.UUID]
    position: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[uuid.UUID | None]
    removed_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("session_id", "product_id"),)


class ProductSet(IdMixin, TimestampMixin, Base):
    """A reusable list of products a shop prepares for its streams."""

    __tablename__ = "live_product_sets"

    shop_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    product_ids: Mapped[list[str]] = mapped_column(JSONType)
    created_by: Mapped[uuid.UUID | None]


class Pin(IdMixin, Base):
    """A product pinned during a session, stamped with the stream's media time for replays."""

    __tablename__ = "live_pins"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[uuid.UUID]
    pinned_at: Mapped[datetime] = mapped_column(default=utcnow)
    unpinned_at: Mapped[datetime | None]
    media_time_ms: Mapped[int | None]
    pinned_by: Mapped[uuid.UUID | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class FlashSaleState(StrEnum):
    scheduled = "scheduled"
    running = "running"
    sold_out = "sold_out"
    ended = "ended"
    cancelled = "cancelled"


class FlashSale(IdMixin, Base):
    """A deal price for a limited quantity under a countdown; never sells more than `quantity`."""

    __tablename__ = "live_flash_sales"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[uuid.UUID]
    variant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    deal_prices: Mapped[dict[str, Any]] = mapped_column(JSONType)
    quantity: Mapped[int]
    claimed: Mapped[int] = mapped_column(default=0)
    per_buyer_cap: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    announced: Mapped[str] = mapped_column(String(20), default="scheduled")
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("claimed >= 0 AND claimed <= quantity", name="claimed_within_quantity"),
        CheckConstraint("quantity > 0 AND per_buyer_cap > 0", name="positive_quantities"),
    )


class ClaimStatus(StrEnum):
    held = "held"
    paid = "paid"
    expired = "expired"
    released = "released"


class FlashSaleClaim(IdMixin, Base):
    """A buyer's win: units held at the deal price until the deadline to pay."""

    __tablename__ = "live_flash_sale_claims"

    sale_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("live_flash_sales.id", ondelete="CASCADE"), index=True
    )
    buyer_id: Mapped[uuid.UUID] = mapped_column(index=True)
    quantity: Mapped[int]
    market: Mapped[str] = mapped_column(String(2))
    reservation_id: Mapped[uuid.UUID]
    status: Mapped[ClaimStatus] = mapped_column(str_enum(ClaimStatus), default=ClaimStatus.held)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[datetime | None]


class FlashSaleBuyer(Base):
    """How many units one buyer holds or bought in one sale (for the per-buyer cap)."""

    __tablename__ = "live_flash_sale_buyers"

    sale_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("live_flash_sales.id", ondelete="CASCADE"), primary_key=True
    )
    buyer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    quantity: Mapped[int] = mapped_column(default=0)


class SanctionKind(StrEnum):
    mute = "mute"
    block = "block"


class ChatMessage(IdMixin, Base):
    __tablename__ = "live_chat_messages"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID]
    display_name: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(String(500))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    media_time_ms: Mapped[int | None]
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[uuid.UUID | None]

    __table_args__ = (Index("ix_live_chat_messages_session_sent", "session_id", "sent_at"),)


class RoomSanction(IdMixin, Base):
    """A viewer muted (may watch, may not write) or blocked (may not join) in one session."""

    __tablename__ = "live_room_sanctions"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID]
    kind: Mapped[SanctionKind] = mapped_column(str_enum(SanctionKind))
    until: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None]


class RoomActivity(IdMixin, Base):
    """Counted actions in a room (tag taps, add-to-carts, orders), for the host's live numbers."""

    __tablename__ = "live_room_activity"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(30))
    product_id: Mapped[uuid.UUID | None]
    viewer_key: Mapped[str | None] = mapped_column(String(80))
    quantity: Mapped[int] = mapped_column(default=1)
    amount: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str | None] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(80), unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_live_room_activity_session_kind", "session_id", "kind"),)
