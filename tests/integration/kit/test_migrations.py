"""Migrations build the schema from empty and take it down again, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from liveloop import migrations
from liveloop.kit.db import create_engine
from liveloop.migrations.models import metadata


def _search_tables(conn: Connection) -> set[str]:
    """SQLite FTS5 tables and their shadow tables: search indexes, not models."""
    if conn.dialect.name != "sqlite":
        return set()
    virtual = conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
    ).scalars()
    names = set()
    for name in virtual:
        names |= {name, *(f"{name}_{s}" for s in ("data", "idx", "docsize", "config", "content"))}
    return names


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            return names - {"alembic_version"} - await conn.run_sync(_search_tables)
    finally:
        await engine.dispose()


async def _up_down_up(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(migrations.upgrade_on)
            await conn.commit()
        assert await _tables(url) == set(metadata.tables)
        async with engine.connect() as conn:
            await conn.run_sync(migrations.downgrade_on)
            await conn.commit()
        assert await _tables(url) == set()
        async with engine.connect() as conn:
            await conn.run_sync(migrations.upgrade_on)
            await conn.commit()
        assert await _tables(url) == set(metadata.tables)
    finally:
        await engine.dispose()


async def test_migrations_from_empty_on_sqlite(tmp_path: Path) -> None:
    await _up_down_up(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")


@pytest.mark.postgres
async def test_migrations_from_empty_on_postgres() -> None:
    base = make_url(os.environ["LIVELOOP_TEST_DATABASE_URL"])
    name = f"{base.database}_migrations"
    admin = create_engine(base.render_as_string(hide_password=False))
    try:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await _up_down_up(base.set(database=name).render_as_string(hide_password=False))
    finally:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    """Autogenerate finds nothing to add: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine as create_sync_engine

    db = tmp_path / "agree.db"
    migrations.upgrade(f"sqlite+aiosqlite:///{db}")
    sync = create_sync_engine(f"sqlite:///{db}")
    with sync.connect() as conn:
        search_tables = _search_tables(conn)
        diff = compare_metadata(
            MigrationContext.configure(
                conn,
                opts={
                    "compare_type": False,
                    "include_name": lambda name, kind, _: (
                        not (kind == "table" and name in search_tables)
                    ),
                },
            ),
            metadata,
        )
    sync.dispose()
    assert diff == []
