"""Side effects registered with `after_commit` run only once the transaction is durable."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.kit.db import after_commit, commit, rollback


async def test_callbacks_run_after_commit_and_are_dropped_on_rollback(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    ran: list[str] = []

    async def note(label: str) -> None:
        ran.append(label)

    async with sessionmaker() as session:
        after_commit(session, lambda: note("rolled back"))
        await rollback(session)
        after_commit(session, lambda: note("first"))
        after_commit(session, lambda: note("second"))
        assert ran == []
        await commit(session)
        assert ran == ["first", "second"]
        await commit(session)  # callbacks run once
        assert ran == ["first", "second"]
