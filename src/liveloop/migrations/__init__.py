"""Alembic migrations, run with `liveloop db upgrade` (every context's branch, to `heads`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

HERE = Path(__file__).parent


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("version_locations", str(HERE / "versions"))
    config.set_main_option("path_separator", "os")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, target: str = "heads") -> None:
    """Migrate the database at `url` (opens its own event loop; call from sync code)."""
    command.upgrade(alembic_config(url), target)


def downgrade(url: str, target: str = "base") -> None:
    command.downgrade(alembic_config(url), target)


def upgrade_on(connection: Connection, target: str = "heads") -> None:
    """Migrate through an open (sync) connection, e.g. inside `AsyncConnection.run_sync`."""
    command.upgrade(alembic_config(connection=connection), target)


def downgrade_on(connection: Connection, target: str = "base") -> None:
    command.downgrade(alembic_config(connection=connection), target)
