"""The transactional outbox: domain events are written with the change that raised them and
delivered to their handlers only after that change commits, at least once, in order per aggregate.

A handler runs in its own transaction together with the row that records its delivery, so a
handler whose work committed is not run again for the same event; one that failed is retried
with backoff, and later events of the same aggregate wait behind it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, Session, mapped_column

from liveloop.kit.db import Base, commit, utcnow

log = logging.getLogger("liveloop.outbox")

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEvent(Base):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    event_type: Mapped[str] = mapped_column(String(100))
    aggregate_type: Mapped[str] = mapped_column(String(50))
    aggregate_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    actor_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_events_pending", "delivered_at", "id"),)


class OutboxDelivery(Base):
    """One handler's completed delivery of one event."""

    __tablename__ = "outbox_deliveries"

    event_id: Mapped[int] = mapped_column(
        _BigId, ForeignKey("outbox_events.id", ondelete="CASCADE"), primary_key=True
    )
    handler: Mapped[str] = mapped_column(String(200), primary_key=True)
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """What a handler receives."""

    id: int
    type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    actor_id: str | None
    occurred_at: datetime


Handler = Callable[[AsyncSession, DomainEvent], Awaitable[None]]

_PENDING_KEY = "liveloop.outbox.pending"
_commit_listeners: list[Callable[[], None]] = []


def _json_safe(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    return value


def record(
    session: AsyncSession,
    event_type: str,
    *,
    aggregate_type: str,
    aggregate_id: str | uuid.UUID,
    payload: dict[str, Any],
    actor_id: str | uuid.UUID | None = None,
) -> OutboxEvent:
    """Write an event in the caller's transaction; it is delivered only if that commits."""
    row = OutboxEvent(
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        payload=_json_safe(payload),
        actor_id=str(actor_id) if actor_id is not None else None,
    )
    session.add(row)
    session.info[_PENDING_KEY] = True
    return row


def on_commit(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` after any session that recorded events commits; returns an unsubscriber."""
    _commit_listeners.append(listener)

    def remove() -> None:
        if listener in _commit_listeners:
            _commit_listeners.remove(listener)

    return remove


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_PENDING_KEY, False):
        for listener in list(_commit_listeners):
            try:
                listener()
            except Exception:  # a wake-up must never break the committing request
                log.exception("outbox commit listener failed")


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING_KEY, None)


class EventBus:
    """Which handlers react to which event types. Each handler has a stable name, which is how
    its deliveries are remembered; renaming a handler makes it see old events again."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[tuple[str, Handler]]] = {}

    def subscribe(self, event_type: str, handler: Handler, *, name: str | None = None) -> None:
        key = name or f"{handler.__module__}.{handler.__qualname__}"
        entries = self._handlers.setdefault(event_type, [])
        if any(existing == key for existing, _ in entries):
            raise ValueError(f"handler {key} already subscribed to {event_type}")
        entries.append((key, handler))

    def handlers_for(self, event_type: str) -> list[tuple[str, Handler]]:
        return list(self._handlers.get(event_type, ()))


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** min(attempts, 10), 600))


class Dispatcher:
    """Delivers committed events to their handlers."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        *,
        batch_size: int = 200,
        poll_interval: float = 2.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def wake(self) -> None:
        self._wake.set()

    async def drain(self) -> int:
        """Deliver everything deliverable now; returns how many events were completed."""
        async with self._lock:
            total = 0
            while True:
                delivered, progressed = await self._pass()
                total += delivered
                if not progressed:
                    return total

    async def _pass(self) -> tuple[int, bool]:
        async with self._sessionmaker() as session:
            rows = (
                await session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.delivered_at.is_(None))
                    .order_by(OutboxEvent.id)
                    .limit(self._batch_size)
                )
            ).all()
        now = utcnow()
        blocked: set[tuple[str, str]] = set()
        delivered = 0
        for row in rows:
            key = (row.aggregate_type, row.aggregate_id)
            if key in blocked:
                continue
            if row.next_attempt_at is not None and row.next_attempt_at > now:
                blocked.add(key)
                continue
            if await self._deliver(row):
                delivered += 1
            else:
                blocked.add(key)
        return delivered, delivered > 0

    async def _deliver(self, row: OutboxEvent) -> bool:
        envelope = DomainEvent(
            id=row.id,
            type=row.event_type,
            aggregate_type=row.aggregate_type,
            aggregate_id=row.aggregate_id,
            payload=row.payload,
            actor_id=row.actor_id,
            occurred_at=row.occurred_at,
        )
        async with self._sessionmaker() as session:
            done = set(
                (
                    await session.scalars(
                        select(OutboxDelivery.handler).where(OutboxDelivery.event_id == row.id)
                    )
                ).all()
            )
        for name, handler in self._bus.handlers_for(row.event_type):
            if name in done:
                continue
            try:
                async with self._sessionmaker() as session:
                    await handler(session, envelope)
                    session.add(OutboxDelivery(event_id=row.id, handler=name))
                    await commit(session)  # and then the handler's after-commit work
            except Exception as exc:
                log.warning(
                    "event handler failed",
                    extra={"event_id": row.id, "handler": name, "error": repr(exc)},
                )
                await self._failed(row, f"{name}: {exc!r}")
                return False
        async with self._sessionmaker() as session:
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == row.id)
                .values(delivered_at=utcnow(), last_error=None)
            )
            await session.commit()
        return True

    async def _failed(self, row: OutboxEvent, error: str) -> None:
        async with self._sessionmaker() as session:
            attempts = row.attempts + 1
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == row.id)
                .values(
                    attempts=attempts,
                    last_error=error[:2000],
                    next_attempt_at=utcnow() + _backoff(attempts),
                )
            )
            await session.commit()
        row.attempts = attempts

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, waking on commits and polling for retries."""
        while not stop.is_set():
            self._wake.clear()  # before draining, so a commit during the pass wakes us again
            try:
                await self.drain()
            except Exception:
                log.exception("outbox pass failed")
            wake = asyncio.ensure_future(self._wake.wait())
            stopping = asyncio.ensure_future(stop.wait())
            _, pending = await asyncio.wait(
                {wake, stopping}, timeout=self._poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
