"""The transactional outbox: delivered after commit, never after rollback, once per handler,
in order per aggregate, retried after a failure."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.kit import outbox
from liveloop.kit.clock import clock
from liveloop.kit.outbox import DomainEvent, OutboxEvent


def _bus_with(
    log: list[tuple[str, str, int]], *, fail_on: set[int] | None = None
) -> outbox.EventBus:
    bus = outbox.EventBus()
    failures = fail_on if fail_on is not None else set()

    async def first(session: AsyncSession, event: DomainEvent) -> None:
        if event.payload["n"] in failures:
            failures.discard(event.payload["n"])
            raise RuntimeError("transient failure")
        log.append(("first", event.aggregate_id, event.payload["n"]))

    async def second(session: AsyncSession, event: DomainEvent) -> None:
        log.append(("second", event.aggregate_id, event.payload["n"]))

    bus.subscribe("test.happened", first, name="first")
    bus.subscribe("test.happened", second, name="second")
    return bus


def _record(session: AsyncSession, aggregate: str, n: int) -> None:
    outbox.record(
        session, "test.happened", aggregate_type="test", aggregate_id=aggregate, payload={"n": n}
    )


async def test_delivered_after_commit_and_never_after_rollback(
    committing_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    sessionmaker = committing_sessionmaker
    log: list[tuple[str, str, int]] = []
    dispatcher = outbox.Dispatcher(sessionmaker, _bus_with(log))
    woken: list[bool] = []
    remove = outbox.on_commit(lambda: woken.append(True))
    try:
        async with sessionmaker() as session:
            _record(session, "a", 1)
            await session.flush()
            await session.rollback()
        assert woken == []
        assert await dispatcher.drain() == 0
        assert log == []

        async with sessionmaker() as session:
            _record(session, "a", 2)
            await session.commit()
        assert woken == [True]
    finally:
        remove()
    assert await dispatcher.drain() == 1
    assert log == [("first", "a", 2), ("second", "a", 2)]
    assert await dispatcher.drain() == 0  # delivered once
    assert log == [("first", "a", 2), ("second", "a", 2)]


async def test_a_failed_handler_is_retried_and_holds_back_its_aggregate(
    committing_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    sessionmaker = committing_sessionmaker
    log: list[tuple[str, str, int]] = []
    dispatcher = outbox.Dispatcher(sessionmaker, _bus_with(log, fail_on={1}))
    async with sessionmaker() as session:
        _record(session, "a", 1)
        _record(session, "a", 2)
        _record(session, "b", 3)
        await session.commit()

    assert await dispatcher.drain() == 1  # only b's event; a waits behind its failed first event
    assert log == [("first", "b", 3), ("second", "b", 3)]
    async with sessionmaker() as session:
        failed = (
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.aggregate_id == "a").order_by(OutboxEvent.id)
            )
        ).all()
        assert [(e.attempts, e.delivered_at is None) for e in failed] == [(1, True), (0, True)]
        assert failed[0].last_error is not None and "transient failure" in failed[0].last_error

    with clock.travel(timedelta(seconds=3)):  # past the first backoff
        assert await dispatcher.drain() == 2
    assert log[2:] == [("first", "a", 1), ("second", "a", 1), ("first", "a", 2), ("second", "a", 2)]


async def test_handlers_already_done_are_not_run_again(
    committing_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    sessionmaker = committing_sessionmaker
    log: list[tuple[str, str, int]] = []
    bus = outbox.EventBus()
    calls = {"flaky": 0}

    async def steady(session: AsyncSession, event: DomainEvent) -> None:
        log.append(("steady", event.aggregate_id, event.payload["n"]))

    async def flaky(session: AsyncSession, event: DomainEvent) -> None:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise RuntimeError("boom")
        log.append(("flaky", event.aggregate_id, event.payload["n"]))

    bus.subscribe("test.happened", steady, name="steady")
    bus.subscribe("test.happened", flaky, name="flaky")
    dispatcher = outbox.Dispatcher(sessionmaker, bus)
    async with sessionmaker() as session:
        _record(session, "x", 7)
        await session.commit()
    assert await dispatcher.drain() == 0
    with clock.travel(timedelta(seconds=3)):
        assert await dispatcher.drain() == 1
    assert log == [("steady", "x", 7), ("flaky", "x", 7)]
