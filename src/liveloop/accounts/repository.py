"""Every query accounts makes, named by what it is for."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.models import AuthSession, ShopApiKey, ShopMembership, ShopRole, User


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.strip().lower()))


async def get_session_with_user_by_token_hash(
    session: AsyncSession, token_hash: str
) -> tuple[AuthSession, User] | None:
    row = (
        await session.execute(
            select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_hash == token_hash)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def list_memberships_of_user(
    session: AsyncSession, user_id: uuid.UUID
) -> list[ShopMembership]:
    return list(
        (
            await session.scalars(
                select(ShopMembership)
                .where(ShopMembership.user_id == user_id)
                .order_by(ShopMembership.created_at)
            )
        ).all()
    )


async def list_members_of_shop(session: AsyncSession, shop_id: uuid.UUID) -> list[ShopMembership]:
    return list(
        (
            await session.scalars(
                select(ShopMembership)
                .where(ShopMembership.shop_id == shop_id)
                .order_by(ShopMembership.created_at)
            )
        ).all()
    )


async def get_membership(
    session: AsyncSession, shop_id: uuid.UUID, user_id: uuid.UUID
) -> ShopMembership | None:
    return await session.scalar(
        select(ShopMembership).where(
            ShopMembership.shop_id == shop_id, ShopMembership.user_id == user_id
        )
    )


async def count_owners(session: AsyncSession, shop_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(ShopMembership)
            .where(ShopMembership.shop_id == shop_id, ShopMembership.role == ShopRole.owner)
        )
        or 0
    )


async def get_api_key_by_hash(session: AsyncSession, key_hash: str) -> ShopApiKey | None:
    return await session.scalar(select(ShopApiKey).where(ShopApiKey.key_hash == key_hash))


async def list_api_keys_of_shop(session: AsyncSession, shop_id: uuid.UUID) -> list[ShopApiKey]:
    return list(
        (
            await session.scalars(
                select(ShopApiKey)
                .where(ShopApiKey.shop_id == shop_id)
                .order_by(ShopApiKey.created_at.desc())
            )
        ).all()
    )


async def get_api_key_of_shop(
    session: AsyncSession, shop_id: uuid.UUID, key_id: uuid.UUID
) -> ShopApiKey | None:
    return await session.scalar(
        select(ShopApiKey).where(ShopApiKey.shop_id == shop_id, ShopApiKey.id == key_id)
    )
