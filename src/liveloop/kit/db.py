"""Database plumbing: the declarative base, column types, engines and sessions."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import uuid6
from sqlalchemy import JSON, DateTime, Enum, MetaData, TypeDecorator, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

from liveloop.kit.clock import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return clock.now()


def new_id() -> uuid.UUID:
    """A time-ordered UUIDv7, so that ids sort by creation and paginate well."""
    value: uuid.UUID = uuid6.uuid7()
    return uuid.UUID(bytes=value.bytes)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored and returned in UTC, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def str_enum(cls: type[StrEnum], *, length: int = 20) -> Enum:
    """A StrEnum column stored as its values in a VARCHAR: no database enum type to migrate when
    a value is added."""
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Give SQLite real transactions: explicit BEGIN IMMEDIATE, foreign keys, WAL.

    pysqlite's own transaction handling does not support SAVEPOINT properly and starts write
    transactions lazily, which lets two writers deadlock on lock upgrade. BEGIN IMMEDIATE takes
    the write lock up front, so concurrent writers queue on busy_timeout instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        # A small pool of open connections: SQLite has one writer anyway, and reopening a
        # connection (a thread for aiosqlite) per request costs more than the query.
        engine = (
            create_async_engine(url, echo=echo, poolclass=NullPool)
            if ":memory:" in url
            else create_async_engine(url, echo=echo, pool_size=5, max_overflow=5)
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True
    )


def create_sessionmaker(bind: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)


_AFTER_COMMIT = "liveloop.after_commit"
_ON_ROLLBACK = "liveloop.on_rollback"


def after_commit(session: AsyncSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Run `callback` once the session's transaction has committed (dropped on rollback).

    For side effects that must not be seen before the data is durable, such as broadcasting a
    pin to a live room."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def on_rollback(session: AsyncSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Run `callback` if the transaction is rolled back or fails to commit (dropped on commit).

    For undoing work done outside the database inside the transaction, such as units taken
    from a flash sale's counter in Redis."""
    session.info.setdefault(_ON_ROLLBACK, []).append(callback)


async def _run(callbacks: list[Callable[[], Awaitable[None]]], when: str) -> None:
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            logging.getLogger("liveloop.db").exception("%s callback failed", when)


async def commit(session: AsyncSession) -> None:
    """Commit, then run the callbacks registered with `after_commit`."""
    try:
        await session.commit()
    except BaseException:
        session.info.pop(_AFTER_COMMIT, None)
        await _run(session.info.pop(_ON_ROLLBACK, []), "on-rollback")
        raise
    session.info.pop(_ON_ROLLBACK, None)
    await _run(session.info.pop(_AFTER_COMMIT, []), "after-commit")


async def rollback(session: AsyncSession) -> None:
    session.info.pop(_AFTER_COMMIT, None)
    try:
        await session.rollback()
    finally:
        await _run(session.info.pop(_ON_ROLLBACK, []), "on-rollback")


async def session_scope(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A unit of work for jobs and CLI commands: commit on success, roll back on error."""
    async with factory() as session:
        try:
            yield session
            await commit(session)
        except BaseException:
            await rollback(session)
            raise
