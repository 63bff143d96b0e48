"""Accounts' tables: users, their sessions, shop memberships and shops' API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liveloop.kit.db import Base, IdMixin, TimestampMixin, utcnow


class ShopRole(StrEnum):
    owner = "owner"
    staff = "staff"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    time_zone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(20))
    is_platform_admin: Mapped[bool] = mapped_column(default=False)
    is_creator: Mapped[bool] = mapped_column(default=False)
    disabled_at: Mapped[datetime | None]


class AuthSession(IdMixin, Base):
    """A signed-in session; only the SHA-256 of its opaque token is stored."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ShopMembership(IdMixin, Base):
    """A user's place in a shop's staff. The shop itself belongs to the catalog context."""

    __tablename__ = "shop_memberships"

    shop_id: Mapped[uuid.UUID] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[ShopRole] = mapped_column(Enum(ShopRole, native_enum=False, length=20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None]

    __table_args__ = (UniqueConstraint("shop_id", "user_id"),)


class ShopApiKey(IdMixin, Base):
    """A secret for a shop's own servers; only its hash and a short prefix are stored."""

    __tablename__ = "shop_api_keys"

    shop_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
