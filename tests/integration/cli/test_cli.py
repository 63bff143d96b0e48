"""The command line: migrations, idempotent demo seed, user creation with clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liveloop.cli import app
from liveloop.kit.settings import get_settings
from liveloop.web.demo_accounts import DEMO_LOGINS


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LIVELOOP_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("LIVELOOP_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("LIVELOOP_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("LIVELOOP_LOG_JSON", "false")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # A separate process: the CLI runs its own event loop, as it does for a newcomer.
    return subprocess.run(
        [sys.executable, "-m", "liveloop", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=400,
    )


def test_upgrade_seed_twice_and_create_users(cli_env: Path) -> None:
    assert _run("db", "upgrade").returncode == 0
    first = _run("demo", "seed")
    assert first.returncode == 0, first.stderr
    assert f"{len(DEMO_LOGINS)} users" in first.stdout
    second = _run("demo", "seed")
    assert second.returncode == 0
    assert "demo data already present" in second.stdout

    created = _run(
        "users",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "Ops",
        "--country",
        "GB",
        "--password",
        "Sturdy-Pass-4821",
        "--admin",
    )
    assert created.returncode == 0, created.stderr
    assert "created user" in created.stdout
    taken = _run(
        "users",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "Ops",
        "--country",
        "GB",
        "--password",
        "Sturdy-Pass-4821",
    )
    assert taken.returncode == 2
    assert "already exists" in taken.stderr


def test_users_create_validates_its_arguments(cli_env: Path) -> None:
    runner = CliRunner()
    bad_email = runner.invoke(
        app,
        [
            "users",
            "create",
            "--email",
            "nope",
            "--name",
            "X",
            "--country",
            "GB",
            "--password",
            "Sturdy-Pass-4821",
        ],
    )
    assert bad_email.exit_code == 2
    assert "email" in bad_email.output
    bad_country = runner.invoke(
        app,
        [
            "users",
            "create",
            "--email",
            "a@example.com",
            "--name",
            "X",
            "--country",
            "XX",
            "--password",
            "Sturdy-Pass-4821",
        ],
    )
    assert bad_country.exit_code == 2
    assert "country" in bad_country.output


def test_serve_refuses_several_workers_on_sqlite(cli_env: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "PostgreSQL and Redis" in result.output
