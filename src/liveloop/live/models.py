"""Live's tables: sessions and their state history, moderators, the bag, product sets, pins."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liveloop.kit.db import Base, IdMixin, JSONType, TimestampMixin, utcnow


def _enum(cls: type[StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


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
    state: Mapped[SessionState] = mapped_column(_enum(SessionState), default=SessionState.scheduled)
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
