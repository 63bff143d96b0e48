"""Accounts: users, sign-in sessions, shop memberships and shops' API keys.

Other contexts call this module (imported as `accounts_service`), never accounts' tables.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts import events, passwords
from liveloop.accounts import repository as repo
from liveloop.accounts.errors import (
    AlreadyMember,
    EmailTaken,
    InvalidCredentials,
    LastOwner,
    SessionExpired,
    UserNotFound,
    WeakPassword,
)
from liveloop.accounts.models import AuthSession, ShopApiKey, ShopMembership, ShopRole, User
from liveloop.kit import outbox
from liveloop.kit.db import utcnow
from liveloop.kit.errors import NotFound, TooManyRequests, field_error
from liveloop.kit.ratelimit import RateLimiter
from liveloop.kit.signing import Signer

SESSION_TOKEN_PREFIX = "lls_"
API_KEY_PREFIX = "llk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a signed-in user, or a shop's server with an API key."""

    kind: Literal["user", "api_key"]
    user_id: uuid.UUID | None
    shop_roles: Mapping[uuid.UUID, ShopRole] = field(default_factory=dict)
    is_platform_admin: bool = False
    is_creator: bool = False
    via: Literal["bearer", "cookie", "api_key"] = "bearer"
    session_id: uuid.UUID | None = None
    token_hash: str | None = None
    api_key_id: uuid.UUID | None = None
    country: str | None = None
    time_zone: str = "UTC"
    locale: str = "en_GB"

    @property
    def roles(self) -> list[str]:
        if self.kind == "api_key":
            return ["shop_api"]
        roles = ["buyer"]
        if self.is_creator:
            roles.append("creator")
        if self.shop_roles:
            roles.append("seller")
        if self.is_platform_admin:
            roles.append("admin")
        return roles

    def role_in(self, shop_id: uuid.UUID) -> ShopRole | None:
        return self.shop_roles.get(shop_id)

    def may_act_for_shop(self, shop_id: uuid.UUID, *, owner: bool = False) -> bool:
        role = self.shop_roles.get(shop_id)
        if role is None:
            return False
        return role is ShopRole.owner or not owner

    @property
    def scope_key(self) -> str:
        if self.kind == "api_key":
            return f"apikey:{self.api_key_id}"
        return f"user:{self.user_id}"


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    token: str
    session: AuthSession


class Accounts:
    """Configuration the service needs from the process (limits, secrets)."""

    def __init__(
        self,
        *,
        limiter: RateLimiter,
        secret_key: str,
        session_ttl: timedelta,
        attempts_per_account: str,
        attempts_per_address: str,
    ) -> None:
        self.limiter = limiter
        self.session_ttl = session_ttl
        self._csrf = Signer(secret_key, salt="csrf")
        self._per_account = RateLimiter.parse(attempts_per_account)
        self._per_address = RateLimiter.parse(attempts_per_address)

    def csrf_token(self, token_hash: str) -> str:
        return self._csrf.mac(token_hash.encode())

    def csrf_valid(self, token_hash: str, presented: str | None) -> bool:
        return presented is not None and secrets.compare_digest(
            self.csrf_token(token_hash), presented
        )

    # -- users -------------------------------------------------------------------------------

    async def create_user(
        self,
        session: AsyncSession,
        *,
        email: str,
        password: str,
        display_name: str,
        country: str,
        time_zone: str = "UTC",
        locale: str = "en_GB",
        is_platform_admin: bool = False,
        is_creator: bool = False,
        check_strength: bool = True,
    ) -> User:
        email = email.strip().lower()
        if check_strength:
            problem = passwords.weakness(
                password, user_inputs=[email, email.split("@")[0], display_name]
            )
            if problem:
                raise WeakPassword(
                    "The password is too weak.",
                    errors=[field_error("password", problem, code="weak")],
                )
        if await repo.get_user_by_email(session, email) is not None:
            raise EmailTaken(
                "An account with this email already exists.",
                errors=[field_error("email", "already registered", code="taken")],
            )
        user = User(
            email=email,
            display_name=display_name,
            password_hash=passwords.hash_password(password),
            country=country,
            time_zone=time_zone,
            locale=locale,
            is_platform_admin=is_platform_admin,
            is_creator=is_creator,
        )
        session.add(user)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError as exc:  # a concurrent sign-up with the same email won the race
            raise EmailTaken("An account with this email already exists.") from exc
        outbox.record(
            session,
            events.USER_SIGNED_UP,
            aggregate_type="user",
            aggregate_id=user.id,
            payload={"user_id": user.id, "country": country, "email": email},
            actor_id=user.id,
        )
        return user

    async def sign_up(
        self,
        session: AsyncSession,
        *,
        email: str,
        password: str,
        display_name: str,
        country: str,
        time_zone: str,
        locale: str,
        ip_address: str | None = None,
        user_agent: str | None = None,
    ) -> SignedIn:
        user = await self.create_user(
            session,
            email=email,
            password=password,
            display_name=display_name,
            country=country,
            time_zone=time_zone,
            locale=locale,
        )
        return await self.open_session(session, user, ip_address, user_agent)

    async def log_in(
        self,
        session: AsyncSession,
        *,
        email: str,
        password: str,
        ip_address: str,
        user_agent: str | None = None,
    ) -> SignedIn:
        """Check credentials. The answer never tells whether the email exists, and failed
        attempts are limited per account and every attempt per client address."""
        email = email.strip().lower()
        if not await self.limiter.hit(self._per_address, "login-address", ip_address):
            raise TooManyRequests(
                "Too many sign-in attempts from this address; wait and try again.",
                headers={
                    "Retry-After": str(
                        await self.limiter.retry_after(
                            self._per_address, "login-address", ip_address
                        )
                    )
                },
            )
        if not await self.limiter.allowed(self._per_account, "login-account", email):
            raise TooManyRequests(
                "Too many failed sign-in attempts for this account; wait and try again.",
                headers={
                    "Retry-After": str(
                        await self.limiter.retry_after(self._per_account, "login-account", email)
                    )
                },
            )
        user = await repo.get_user_by_email(session, email)
        ok = passwords.verify_password(user.password_hash if user else None, password)
        if not ok or user is None or user.disabled_at is not None:
            await self.limiter.hit(self._per_account, "login-account", email)
            raise InvalidCredentials("The email or password is not right.")
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        signed_in = await self.open_session(session, user, ip_address, user_agent)
        outbox.record(
            session,
            events.USER_LOGGED_IN,
            aggregate_type="user",
            aggregate_id=user.id,
            payload={"user_id": user.id, "session_id": signed_in.session.id},
            actor_id=user.id,
        )
        return signed_in

    async def open_session(
        self, session: AsyncSession, user: User, ip_address: str | None, user_agent: str | None
    ) -> SignedIn:
        token = SESSION_TOKEN_PREFIX + secrets.token_urlsafe(32)
        auth_session = AuthSession(
            user_id=user.id,
            token_hash=hash_token(token),
            expires_at=utcnow() + self.session_ttl,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:300] or None,
        )
        session.add(auth_session)
        await session.flush()
        return SignedIn(user=user, token=token, session=auth_session)

    async def log_out(self, session: AsyncSession, principal: Principal) -> None:
        if principal.session_id is None:
            return
        auth_session = await session.get(AuthSession, principal.session_id)
        if auth_session is not None and auth_session.revoked_at is None:
            auth_session.revoked_at = utcnow()
            await session.flush()

    async def update_profile(
        self, session: AsyncSession, user_id: uuid.UUID, changes: Mapping[str, object]
    ) -> User:
        user = await repo.get_user(session, user_id)
        if user is None:
            raise UserNotFound("No such user.")
        for name in ("display_name", "country", "time_zone", "locale"):
            if changes.get(name) is not None:
                setattr(user, name, changes[name])
        await session.flush()
        return user

    async def get_user(self, session: AsyncSession, user_id: uuid.UUID) -> User:
        user = await repo.get_user(session, user_id)
        if user is None:
            raise UserNotFound("No such user.")
        return user

    async def get_user_by_email(self, session: AsyncSession, email: str) -> User | None:
        return await repo.get_user_by_email(session, email)

    async def get_users(
        self, session: AsyncSession, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, User]:
        if not ids:
            return {}
        users = (await session.scalars(select(User).where(User.id.in_(set(ids))))).all()
        return {u.id: u for u in users}

    async def set_creator(
        self, session: AsyncSession, user_id: uuid.UUID, value: bool = True
    ) -> None:
        user = await self.get_user(session, user_id)
        user.is_creator = value
        await session.flush()

    # -- resolving callers ---------------------------------------------------------------------

    async def principal_for_token(
        self, session: AsyncSession, token: str, *, via: Literal["bearer", "cookie"]
    ) -> Principal | None:
        """The user behind a session token; None when unknown or revoked. Raises when expired."""
        found = await repo.get_session_with_user_by_token_hash(session, hash_token(token))
        if found is None:
            return None
        auth_session, user = found
        if auth_session.revoked_at is not None or user.disabled_at is not None:
            return None
        if auth_session.expires_at <= utcnow():
            raise SessionExpired("The session has expired; sign in again.")
        memberships = await repo.list_memberships_of_user(session, user.id)
        return Principal(
            kind="user",
            user_id=user.id,
            shop_roles={m.shop_id: m.role for m in memberships},
            is_platform_admin=user.is_platform_admin,
            is_creator=user.is_creator,
            via=via,
            session_id=auth_session.id,
            token_hash=auth_session.token_hash,
            country=user.country,
            time_zone=user.time_zone,
            locale=user.locale,
        )

    async def principal_for_api_key(self, session: AsyncSession, key: str) -> Principal | None:
        api_key = await repo.get_api_key_by_hash(session, hash_token(key))
        if api_key is None or api_key.revoked_at is not None:
            return None
        api_key.last_used_at = utcnow()
        return Principal(
            kind="api_key",
            user_id=None,
            shop_roles={api_key.shop_id: ShopRole.staff},
            via="api_key",
            api_key_id=api_key.id,
        )

    # -- shop staff ----------------------------------------------------------------------------

    async def add_membership(
        self,
        session: AsyncSession,
        *,
        shop_id: uuid.UUID,
        user_id: uuid.UUID,
        role: ShopRole,
        actor_id: uuid.UUID | None,
    ) -> ShopMembership:
        if await repo.get_membership(session, shop_id, user_id) is not None:
            raise AlreadyMember("This user is already on the shop's staff.")
        membership = ShopMembership(
            shop_id=shop_id, user_id=user_id, role=role, created_by=actor_id
        )
        session.add(membership)
        await session.flush()
        outbox.record(
            session,
            events.MEMBER_ADDED,
            aggregate_type="shop",
            aggregate_id=shop_id,
            payload={"shop_id": shop_id, "user_id": user_id, "role": role.value},
            actor_id=actor_id,
        )
        return membership

    async def add_member_by_email(
        self,
        session: AsyncSession,
        *,
        shop_id: uuid.UUID,
        email: str,
        role: ShopRole,
        actor_id: uuid.UUID,
    ) -> ShopMembership:
        user = await repo.get_user_by_email(session, email)
        if user is None:
            raise UserNotFound(
                "No user has this email; ask them to sign up first.",
                errors=[field_error("email", "no such user", code="unknown")],
            )
        return await self.add_membership(
            session, shop_id=shop_id, user_id=user.id, role=role, actor_id=actor_id
        )

    async def remove_member(
        self, session: AsyncSession, *, shop_id: uuid.UUID, user_id: uuid.UUID, actor_id: uuid.UUID
    ) -> None:
        membership = await repo.get_membership(session, shop_id, user_id)
        if membership is None:
            raise NotFound("This user is not on the shop's staff.")
        if membership.role is ShopRole.owner and await repo.count_owners(session, shop_id) <= 1:
            raise LastOwner("A shop keeps at least one owner.")
        await session.delete(membership)
        await session.flush()
        outbox.record(
            session,
            events.MEMBER_REMOVED,
            aggregate_type="shop",
            aggregate_id=shop_id,
            payload={"shop_id": shop_id, "user_id": user_id},
            actor_id=actor_id,
        )

    async def list_members(self, session: AsyncSession, shop_id: uuid.UUID) -> list[ShopMembership]:
        return await repo.list_members_of_shop(session, shop_id)

    async def list_memberships(
        self, session: AsyncSession, user_id: uuid.UUID
    ) -> list[ShopMembership]:
        return await repo.list_memberships_of_user(session, user_id)

    async def shop_ids_of_user(self, session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
        return [m.shop_id for m in await repo.list_memberships_of_user(session, user_id)]

    # -- API keys ------------------------------------------------------------------------------

    async def create_api_key(
        self, session: AsyncSession, *, shop_id: uuid.UUID, name: str, actor_id: uuid.UUID
    ) -> tuple[ShopApiKey, str]:
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        api_key = ShopApiKey(
            shop_id=shop_id,
            name=name,
            prefix=key[:12],
            key_hash=hash_token(key),
            created_by=actor_id,
        )
        session.add(api_key)
        await session.flush()
        outbox.record(
            session,
            events.API_KEY_CREATED,
            aggregate_type="shop",
            aggregate_id=shop_id,
            payload={"shop_id": shop_id, "api_key_id": api_key.id, "name": name},
            actor_id=actor_id,
        )
        return api_key, key

    async def list_api_keys(self, session: AsyncSession, shop_id: uuid.UUID) -> list[ShopApiKey]:
        return await repo.list_api_keys_of_shop(session, shop_id)

    async def revoke_api_key(
        self, session: AsyncSession, *, shop_id: uuid.UUID, key_id: uuid.UUID, actor_id: uuid.UUID
    ) -> ShopApiKey:
        api_key = await repo.get_api_key_of_shop(session, shop_id, key_id)
        if api_key is None:
            raise NotFound("No such API key.")
        if api_key.revoked_at is None:
            api_key.revoked_at = utcnow()
            await session.flush()
            outbox.record(
                session,
                events.API_KEY_REVOKED,
                aggregate_type="shop",
                aggregate_id=shop_id,
                payload={"shop_id": shop_id, "api_key_id": key_id},
                actor_id=actor_id,
            )
        return api_key
