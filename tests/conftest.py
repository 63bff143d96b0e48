"""Shared fixtures. Two stacks: `embedded` (SQLite, in-memory fan-out and limits; the default) and
`production` (PostgreSQL and Redis from LIVELOOP_TEST_DATABASE_URL / LIVELOOP_TEST_REDIS_URL).
`make test` runs the suite once per stack. The schema is built from the migrations once per run;
each test runs inside a transaction that is rolled back."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from liveloop import migrations
from liveloop.accounts.models import ShopRole, User
from liveloop.app import create_app
from liveloop.bootstrap import Container, bootstrap
from liveloop.kit.db import create_engine
from liveloop.kit.settings import Environment, Settings

STACK = os.environ.get("LIVELOOP_TEST_STACK", "embedded")
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct-Horse-battery-9"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need PostgreSQL or Redis belong to the production pass only."""
    if STACK == "production":
        return
    keep, drop = [], []
    for item in items:
        (
            drop
            if item.get_closest_marker("postgres") or item.get_closest_marker("redis")
            else keep
        ).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_sessionstart(session: pytest.Session) -> None:
    """On the production stack an unreachable PostgreSQL or Redis fails the run at once."""
    if STACK != "production":
        return
    import asyncio

    async def probe() -> None:
        url = os.environ.get("LIVELOOP_TEST_DATABASE_URL")
        redis_url = os.environ.get("LIVELOOP_TEST_REDIS_URL")
        if not url or not redis_url:
            raise RuntimeError(
                "the production stack needs LIVELOOP_TEST_DATABASE_URL and LIVELOOP_TEST_REDIS_URL"
            )
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        finally:
            await engine.dispose()
        client = Redis.from_url(redis_url)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        asyncio.run(probe())
    except Exception as exc:
        pytest.exit(f"production stack unavailable: {exc}", returncode=3)


def pytest_report_header() -> str:
    return f"liveloop stack: {STACK} ({'CI' if IN_CI else 'local'})"


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if STACK == "production":
        url = os.environ.get("LIVELOOP_TEST_DATABASE_URL")
        if not url:
            pytest.exit("the production stack needs LIVELOOP_TEST_DATABASE_URL", returncode=3)
        return url
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    if STACK == "production":
        url = os.environ.get("LIVELOOP_TEST_REDIS_URL")
        if not url:
            pytest.exit("the production stack needs LIVELOOP_TEST_REDIS_URL", returncode=3)
        return url
    return None


@pytest.fixture(scope="session")
def settings(
    db_url: str, redis_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    var = tmp_path_factory.mktemp("var")
    return Settings(
        env=Environment.test,
        database_url=db_url,
        redis_url=redis_url,
        secret_key="test-secret-key-not-for-production",  # type: ignore[arg-type]
        var_dir=var,
        media_dir=var / "media",
        log_json=False,
        outbox_in_process=False,
    )


async def _reset_postgres(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
        await conn.commit()


@pytest.fixture(scope="session")
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    try:
        if not db_url.startswith("sqlite"):
            await _reset_postgres(engine)
        async with engine.connect() as conn:
            await conn.run_sync(migrations.upgrade_on)
            await conn.commit()
    except OSError as exc:  # the server is not there: a failure, never a skip
        pytest.exit(f"database at {db_url} is unreachable: {exc}", returncode=3)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        outer = await conn.begin()
        try:
            yield conn
        finally:
            if outer.is_active:
                await outer.rollback()


@pytest.fixture
async def committing_sessionmaker(
    engine: AsyncEngine,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on their own connections that really commit, for concurrency and delivery tests.
    Do not combine with `connection`/`session`/`client` in one test (SQLite would wait on its lock).
    Every table is emptied afterwards."""
    from liveloop.migrations.models import metadata

    yield async_sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    async with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
async def redis(redis_url: str | None) -> AsyncIterator[Redis | None]:
    if redis_url is None:
        yield None
        return
    client = Redis.from_url(redis_url)
    try:
        await client.flushdb()
    except OSError as exc:
        pytest.exit(f"Redis at {redis_url} is unreachable: {exc}", returncode=3)
    yield client
    await client.aclose()


@pytest.fixture
async def container(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis | None,
) -> AsyncIterator[Container]:
    container = bootstrap(settings, sessionmaker=sessionmaker, redis=redis)
    yield container
    for task in list(container._tasks):
        task.cancel()
    await container.rooms.close()  # a Redis-backed hub's reader task must not outlive the test


@pytest.fixture
def app(settings: Settings, container: Container) -> Any:
    return create_app(settings, container=container)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass
class SignedInUser:
    user: User
    token: str

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


MakeUser = Callable[..., Awaitable[SignedInUser]]


@pytest.fixture
def make_user(container: Container, sessionmaker: async_sessionmaker[AsyncSession]) -> MakeUser:
    """Create a user (optionally on a shop's staff) and sign them in."""

    async def make(
        *,
        email: str | None = None,
        country: str = "GB",
        admin: bool = False,
        creator: bool = False,
        shop_id: uuid.UUID | None = None,
        role: ShopRole = ShopRole.owner,
        time_zone: str = "Europe/London",
    ) -> SignedInUser:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        async with sessionmaker() as session:
            user = await container.accounts.create_user(
                session,
                email=email,
                password=PASSWORD,
                display_name=email.split("@")[0],
                country=country,
                time_zone=time_zone,
                is_platform_admin=admin,
                is_creator=creator,
            )
            if shop_id is not None:
                await container.accounts.add_membership(
                    session, shop_id=shop_id, user_id=user.id, role=role, actor_id=None
                )
            signed_in = await container.accounts.open_session(
                session, user, "198.51.100.1", "pytest"
            )
            await session.commit()
        return SignedInUser(user=user, token=signed_in.token)

    return make


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith("/" + code)
    assert body["title"]
    assert body["detail"]
    return body


ROOT = Path(__file__).resolve().parent.parent
