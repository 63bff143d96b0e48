"""`liveloop worker`: delivers outbox events in its own process, woken through Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from sqlalchemy import text

from liveloop.bootstrap import OUTBOX_CHANNEL, bootstrap
from liveloop.catalog import tasks as catalog_tasks
from liveloop.checkout import tasks as checkout_tasks
from liveloop.kit import idempotency
from liveloop.kit.settings import Settings
from liveloop.media.wiring import run_jobs

log = logging.getLogger("liveloop.worker")

_LOCK_KEY = 7_455_021  # the PostgreSQL advisory lock that makes one worker the active one


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    container = bootstrap(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    lock_conn = None
    try:
        if not settings.is_sqlite and container.engine is not None:
            lock_conn = await container.engine.connect()
            log.info("waiting to become the active outbox worker")
            await lock_conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
        if container.redis is not None:
            container.spawn(_listen(container, stop))
        container.spawn(_housekeeping(container, stop))
        container.spawn(catalog_tasks.sweep_reservations(container.sessionmaker, stop))
        container.spawn(run_jobs(container.media, container.sessionmaker, stop))
        container.spawn(checkout_tasks.sweep_checkouts(container, stop))
        log.info("outbox worker running")
        await container.dispatcher.run(stop)
    finally:
        if lock_conn is not None:
            await lock_conn.close()
        await container.close()


async def _listen(container: object, stop: asyncio.Event) -> None:
    from liveloop.bootstrap import Container

    assert isinstance(container, Container) and container.redis is not None
    pubsub = container.redis.pubsub()
    await pubsub.subscribe(OUTBOX_CHANNEL)
    try:
        while not stop.is_set():
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                container.dispatcher.wake()
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]


async def _housekeeping(container: object, stop: asyncio.Event) -> None:
    from liveloop.bootstrap import Container

    assert isinstance(container, Container)
    while not stop.is_set():
        try:
            async with container.sessionmaker() as session:
                await idempotency.purge_expired(session)
                await session.commit()
        except Exception:
            log.exception("housekeeping failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=600)
