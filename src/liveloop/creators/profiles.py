"""Creator profiles, following, and followers counted per day for growth figures."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from liveloop.accounts.service import Accounts, Principal
from liveloop.creators import events
from liveloop.creators import repository as repo
from liveloop.creators.errors import (
    AlreadyCreator,
    CannotFollowSelf,
    CreatorNotFound,
    HandleTaken,
    InvalidPeriod,
    NotACreator,
)
from liveloop.creators.models import Creator
from liveloop.kit import outbox
from liveloop.kit.db import utcnow
from liveloop.kit.errors import Unprocessable, field_error
from liveloop.moderation import service as moderation_service

HANDLE = re.compile(r"[a-z0-9_]{3,30}")
RESERVED_HANDLES = frozenset({"me", "touches", "admin", "liveloop", "support", "settings"})
MAX_GROWTH_DAYS = 366


def check_handle(value: str) -> str:
    handle = value.strip().lower()
    if not HANDLE.fullmatch(handle):
        raise Unprocessable(
            "A handle is 3 to 30 letters, digits or underscores.",
            errors=[field_error("handle", "3-30 of a-z, 0-9, _", code="invalid_handle")],
        )
    if handle in RESERVED_HANDLES:
        raise HandleTaken(
            f"The handle {handle!r} is reserved.",
            errors=[field_error("handle", "reserved", code="reserved")],
        )
    moderation_service.ensure_allowed("handle", handle)
    return handle


def _check_texts(texts: Mapping[str, str | None]) -> None:
    for name, text in texts.items():
        moderation_service.ensure_allowed(name, text)


async def create_creator(
    session: AsyncSession,
    accounts: Accounts,
    *,
    user_id: uuid.UUID,
    handle: str,
    display_name: str | None,
    bio: str,
    avatar_key: str | None,
    markets: Sequence[str],
    categories: Sequence[str],
) -> Creator:
    """A user's creator profile; the user becomes a creator in accounts too."""
    handle = check_handle(handle)
    _check_texts({"display_name": display_name, "bio": bio})
    if await repo.get_creator_of_user(session, user_id) is not None:
        raise AlreadyCreator("You already have a creator profile.")
    taken = HandleTaken(
        f"The handle {handle!r} is taken.",
        errors=[field_error("handle", "already used", code="taken")],
    )
    if await repo.get_creator_by_handle(session, handle) is not None:
        raise taken
    user = await accounts.get_user(session, user_id)
    creator = Creator(
        user_id=user_id,
        handle=handle,
        display_name=display_name or user.display_name,
        bio=bio,
        avatar_key=avatar_key,
        markets=sorted(set(markets)),
        categories=sorted(set(categories)),
        followers_count=0,
    )
    session.add(creator)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent request took the handle
        raise taken from exc
    await accounts.set_creator(session, user_id)
    outbox.record(
        session,
        events.CREATOR_CREATED,
        aggregate_type="creator",
        aggregate_id=creator.id,
        payload={"creator_id": creator.id, "user_id": user_id, "handle": handle},
        actor_id=user_id,
    )
    return creator


async def update_creator(
    session: AsyncSession, creator: Creator, changes: Mapping[str, object]
) -> Creator:
    _check_texts(
        {
            name: value
            for name, value in changes.items()
            if name in ("display_name", "bio") and isinstance(value, str)
        }
    )
    for name in ("display_name", "bio", "avatar_key"):
        if name in changes and (changes[name] is not None or name == "avatar_key"):
            setattr(creator, name, changes[name])
    for name in ("markets", "categories"):
        value = changes.get(name)
        if isinstance(value, list):
            setattr(creator, name, sorted(set(value)))
    await session.flush()
    return creator


async def get_by_handle(session: AsyncSession, handle: str) -> Creator:
    creator = await repo.get_creator_by_handle(session, handle)
    if creator is None:
        raise CreatorNotFound(f"No creator @{handle}.")
    return creator


async def get_creator(session: AsyncSession, creator_id: uuid.UUID) -> Creator:
    creator = await repo.get_creator(session, creator_id)
    if creator is None:
        raise CreatorNotFound("No such creator.")
    return creator


async def creator_of_user(session: AsyncSession, user_id: uuid.UUID) -> Creator | None:
    return await repo.get_creator_of_user(session, user_id)


async def creators_by_id(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Creator]:
    return await repo.get_creators(session, ids)


async def require_creator(session: AsyncSession, principal: Principal) -> Creator:
    """The caller's own creator profile, or 403 telling them to create one."""
    creator = None
    if principal.user_id is not None:
        creator = await repo.get_creator_of_user(session, principal.user_id)
    if creator is None:
        raise NotACreator("Create your creator profile first (POST /api/v1/creators).")
    return creator


# -- following -----------------------------------------------------------------------------


async def follow(session: AsyncSession, creator: Creator, user_id: uuid.UUID) -> bool:
    """Follow; following again changes nothing. True when this call added the follow."""
    if creator.user_id == user_id:
        raise CannotFollowSelf("You cannot follow yourself.")
    if not await repo.insert_follow(session, creator.id, user_id):
        return False
    await _count(session, creator, +1)
    outbox.record(
        session,
        events.CREATOR_FOLLOWED,
        aggregate_type="creator",
        aggregate_id=creator.id,
        payload={"creator_id": creator.id, "follower_id": user_id},
        actor_id=user_id,
    )
    return True


async def unfollow(session: AsyncSession, creator: Creator, user_id: uuid.UUID) -> bool:
    if not await repo.delete_follow(session, creator.id, user_id):
        return False
    await _count(session, creator, -1)
    outbox.record(
        session,
        events.CREATOR_UNFOLLOWED,
        aggregate_type="creator",
        aggregate_id=creator.id,
        payload={"creator_id": creator.id, "follower_id": user_id},
        actor_id=user_id,
    )
    return True


async def _count(session: AsyncSession, creator: Creator, delta: int) -> None:
    count = await repo.add_to_followers_count(session, creator.id, delta)
    set_committed_value(creator, "followers_count", count)
    await repo.record_follower_day(
        session,
        creator.id,
        utcnow().date(),
        followers=count,
        gained=max(delta, 0),
        lost=max(-delta, 0),
    )


async def is_following(session: AsyncSession, creator_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return await repo.get_follow(session, creator_id, user_id) is not None


async def follower_ids(session: AsyncSession, creator_id: uuid.UUID) -> list[uuid.UUID]:
    return await repo.follower_ids(session, creator_id)


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    followers: int
    gained: int
    lost: int


@dataclass(frozen=True, slots=True)
class Growth:
    start: date
    end: date
    followers_before: int
    """At the end of the day before `start`."""
    followers_at_end: int
    gained: int
    lost: int
    days: list[Day]

    @property
    def change(self) -> int:
        return self.followers_at_end - self.followers_before

    @property
    def change_percent(self) -> Decimal | None:
        if self.followers_before == 0:
            return None
        return (Decimal(self.change * 100) / self.followers_before).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )


async def growth(session: AsyncSession, creator_id: uuid.UUID, start: date, end: date) -> Growth:
    """Followers day by day from `start` to `end` (UTC days), and the change over the span."""
    if end < start:
        raise InvalidPeriod(
            "The end comes before the start.", errors=[field_error("to", "before from")]
        )
    if (end - start).days >= MAX_GROWTH_DAYS:
        raise InvalidPeriod(
            f"Ask for at most {MAX_GROWTH_DAYS} days at a time.",
            errors=[field_error("to", "span too long", code="too_long")],
        )
    before, rows = await repo.follower_days(session, creator_id, start, end)
    by_day = {r.day: r for r in rows}
    days: list[Day] = []
    current = before
    day = start
    while day <= end:
        row = by_day.get(day)
        if row is None:
            days.append(Day(day, current, 0, 0))
        else:
            current = row.followers
            days.append(Day(day, row.followers, row.gained, row.lost))
        day += timedelta(days=1)
    return Growth(
        start=start,
        end=end,
        followers_before=before,
        followers_at_end=current,
        gained=sum(d.gained for d in days),
        lost=sum(d.lost for d in days),
        days=days,
    )
