"""Wires liveloop's parts together: real adapters for the process, replaceable in tests."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from liveloop.accounts.service import Accounts
from liveloop.catalog import tasks as catalog_tasks
from liveloop.checkout import flows as checkout_flows
from liveloop.checkout import tasks as checkout_tasks
from liveloop.creators import events as creators_events
from liveloop.creators.flows import LedgerCommissions
from liveloop.creators.ports import CreatorsPorts, LocalOutboxSender, MediaVideoAssets
from liveloop.kit import outbox, pagination
from liveloop.kit.db import create_engine, create_sessionmaker
from liveloop.kit.ratelimit import RateLimiter
from liveloop.kit.realtime import RealtimeConfig, RoomHub, create_hub
from liveloop.kit.settings import Settings
from liveloop.kit.storage import LocalMediaStorage, MediaStorage
from liveloop.live import events_handlers as live_events
from liveloop.live.service import Live
from liveloop.live.video import LiveSessionsForMedia
from liveloop.media.service import Media
from liveloop.media.wiring import build_media, run_jobs
from liveloop.payments.config import PaymentsSettings, build_embedded_paysim, build_provider
from liveloop.payments.paysim_app import paysim_of
from liveloop.payments.service import Payments

log = logging.getLogger("liveloop.bootstrap")

OUTBOX_CHANNEL = "liveloop:outbox"


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine | None
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: outbox.EventBus
    dispatcher: outbox.Dispatcher
    limiter: RateLimiter
    redis: Redis | None
    accounts: Accounts
    secret_key: str
    media_storage: MediaStorage
    live: Live
    rooms: RoomHub
    media: Media
    payments: Payments
    paysim: FastAPI | None
    creators: CreatorsPorts
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.rooms.close()
        await self.payments.provider.aclose()
        if self.paysim is not None:
            await paysim_of(self.paysim).aclose()
        if self.redis is not None:
            await self.redis.aclose()
        if self.engine is not None:
            await self.engine.dispose()


def register_event_handlers(bus: outbox.EventBus, container: Container) -> None:
    """Each context hangs its reactions to other contexts' events here."""
    checkout_flows.register(bus, container)
    creators_events.register(bus, container)
    live_events.register(bus, container)


def bootstrap(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    redis: Redis | None = None,
    payments_settings: PaymentsSettings | None = None,
) -> Container:
    engine: AsyncEngine | None = None
    if sessionmaker is None:
        engine = create_engine(settings.database_url)
        sessionmaker = create_sessionmaker(engine)
    if redis is None and settings.redis_url:
        # Bursts (thousands joining a room, a flash-sale rush) must not hit redis-py's default
        # of 100 connections, which raises when exhausted.
        redis = Redis.from_url(settings.redis_url, max_connections=1000)
    secret_key = settings.resolved_secret_key()
    pagination.configure(secret_key)
    limiter = RateLimiter(settings.redis_url)
    bus = outbox.EventBus()
    rooms = create_hub(
        redis,
        RealtimeConfig(
            max_connections=settings.realtime_max_connections,
            max_room_connections=settings.realtime_max_room_connections,
            replay_size=settings.realtime_replay_size,
            send_queue=settings.realtime_send_queue,
            viewers_interval=settings.realtime_viewers_interval,
        ),
    )
    storage = LocalMediaStorage(settings.media_dir)
    payments_settings = payments_settings or PaymentsSettings()
    paysim = (
        build_embedded_paysim(
            payments_settings,
            public_base_url=settings.public_base_url,
            state_file=settings.var_dir / "paysim.json",
        )
        if payments_settings.needs_embedded_paysim
        else None
    )
    accounts = Accounts(
        limiter=limiter,
        secret_key=secret_key,
        session_ttl=timedelta(hours=settings.session_ttl_hours),
        attempts_per_account=settings.login_attempts_per_account,
        attempts_per_address=settings.login_attempts_per_address,
    )
    live = Live(redis=redis, limiter=limiter, accounts=accounts)
    container = Container(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        bus=bus,
        dispatcher=outbox.Dispatcher(sessionmaker, bus),
        limiter=limiter,
        redis=redis,
        accounts=accounts,
        secret_key=secret_key,
        media_storage=storage,
        live=live,
        rooms=rooms,
        media=build_media(settings, live_sessions=LiveSessionsForMedia(live), storage=storage),
        payments=Payments(build_provider(payments_settings, paysim_app=paysim)),
        paysim=paysim,
        creators=CreatorsPorts(
            email=LocalOutboxSender(settings.var_dir / "outbox"),
            video_assets=None,  # set below, from the media service
            ledger=LedgerCommissions(),
        ),
    )
    container.live.set_broadcast(_room_broadcaster(rooms))
    container.creators.video_assets = MediaVideoAssets(container.media)
    register_event_handlers(bus, container)
    return container


def _room_broadcaster(rooms: RoomHub) -> Any:
    async def broadcast(
        room: Any, event_type: str, data: dict[str, Any], media_time_ms: int | None
    ) -> None:
        await rooms.publish(room, event_type, data, media_time_ms=media_time_ms)

    return broadcast


def start_event_delivery(container: Container, stop: asyncio.Event) -> None:
    """In-process delivery (the embedded default), or a nudge to `liveloop worker` via Redis."""
    if container.settings.deliver_events_in_process:
        remove = outbox.on_commit(container.dispatcher.wake)
        container.spawn(_run_until(container.dispatcher.run(stop), remove))
        # No `liveloop worker` runs in this set-up, so its periodic jobs run here too.
        container.spawn(catalog_tasks.sweep_reservations(container.sessionmaker, stop))
        container.spawn(run_jobs(container.media, container.sessionmaker, stop))
        container.spawn(checkout_tasks.sweep_checkouts(container, stop))
    elif container.redis is not None:
        redis = container.redis
        loop = asyncio.get_running_loop()

        def nudge() -> None:
            loop.call_soon_threadsafe(lambda: container.spawn(redis.publish(OUTBOX_CHANNEL, b"1")))

        remove = outbox.on_commit(nudge)
        container.spawn(_run_until(stop.wait(), remove))


async def _run_until(coro: Any, cleanup: Any) -> None:
    try:
        await coro
    finally:
        cleanup()
