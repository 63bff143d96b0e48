"""Cursor pagination walks every row once, and refuses altered cursors."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.models import User
from liveloop.bootstrap import Container
from liveloop.kit.pagination import InvalidCursor, PageParams, paginate
from tests.conftest import MakeUser


async def test_pages_cover_every_row_once(
    session: AsyncSession, make_user: MakeUser, container: Container
) -> None:
    made = [await make_user(email=f"p{i}@example.com") for i in range(7)]
    seen = []
    cursor = None
    while True:
        rows, cursor = await paginate(
            session,
            select(User).where(User.email.like("p%@example.com")),
            keys=[User.id],
            params=PageParams(cursor=cursor, limit=3),
            scope="users",
        )
        seen += [r.id for r in rows]
        if cursor is None:
            break
    assert seen == sorted(u.id for u in made)
    with pytest.raises(InvalidCursor):
        await paginate(
            session,
            select(User),
            keys=[User.id],
            params=PageParams(cursor="abc.def", limit=3),
            scope="users",
        )
    _, first_cursor = await paginate(
        session, select(User), keys=[User.id], params=PageParams(limit=1), scope="users"
    )
    assert first_cursor is not None
    with pytest.raises(InvalidCursor):  # a cursor from another listing
        await paginate(
            session,
            select(User),
            keys=[User.id],
            params=PageParams(cursor=first_cursor, limit=1),
            scope="orders",
        )
