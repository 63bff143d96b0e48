"""End-to-end fixtures: the real app served by uvicorn over a seeded database, and Debian's
chromium driven by Playwright (async API, on the suite's one event loop).

The server is a **subprocess** (`uvicorn liveloop.app:create_app --factory`) on a free
127.0.0.1 port, started once for the `tests/e2e` package (and stopped after it, so it never runs
beside the other tests), on its **own SQLite file** in a temp directory, migrated
with `liveloop.migrations.upgrade` and loaded with `liveloop.demo.seed` (the demo users, shops,
products, listings and stock). It runs with `LIVELOOP_ENV=test`, a temp `var_dir`/`media_dir`
and events delivered in-process, like `liveloop serve` on the embedded stack. It uses SQLite on
both test passes (also when `LIVELOOP_TEST_STACK=production`): the browser tests check pages,
not the database, the PostgreSQL pass already runs every service and API test, and a separate
process with its own file keeps the server's background tasks and process-wide hooks (outbox
commit listeners, the cursor signer) out of the test process and its rolled-back transactions.

Fixtures for other browser tests (e.g. a viewer and a host in two contexts):

- `live_server`: `.url`, `.settings`, `.database_url`; `live_server.log()` is the server's output.
- `e2e_container`: a container in the test process on the same database, for direct service
  calls (`async with e2e_container.sessionmaker() as s: ...; await s.commit()`); the server's
  dispatcher delivers events recorded this way within its poll interval (2 s). In-memory state
  (realtime rooms, rate limits) is the server's own: reach it over HTTP.
- `browser`, `make_context(kind="desktop" | "phone", **options)`, `desktop_context`,
  `phone_context` (390x844, device scale 3, touch), `login(page_or_context, email)`,
  `screenshot(page, name)` into `test-artifacts/screenshots/` (gitignored).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from liveloop import demo, migrations
from liveloop.bootstrap import Container, bootstrap
from liveloop.kit.settings import Environment, Settings
from liveloop.web.demo_accounts import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The same key as the suite's settings: the cursor signer is process-wide, so the e2e
# container must not change what the other tests' cursors are signed with.
SECRET_KEY = "test-secret-key-not-for-production"
START_TIMEOUT = 60.0


@dataclass
class LiveServer:
    url: str
    settings: Settings
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _prepare_database(settings: Settings) -> None:
    """Migrate and seed in a thread with its own event loop (the suite's loop is not running
    while a sync fixture runs, but it must not be replaced)."""
    failure: list[BaseException] = []

    async def seed() -> None:
        container = bootstrap(settings)
        try:
            await demo.seed(container)
        finally:
            await container.close()

    def work() -> None:
        try:
            migrations.upgrade(settings.database_url)
            asyncio.run(seed())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=work, name="e2e-seed")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _server_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVELOOP_")}
    env.update(
        {
            "LIVELOOP_ENV": settings.env.value,
            "LIVELOOP_DATABASE_URL": settings.database_url,
            "LIVELOOP_VAR_DIR": str(settings.var_dir),
            "LIVELOOP_MEDIA_DIR": str(settings.media_dir),
            "LIVELOOP_SECRET_KEY": SECRET_KEY,
            "LIVELOOP_OUTBOX_IN_PROCESS": "true",
            "LIVELOOP_LOG_JSON": "false",
            "LIVELOOP_LOG_LEVEL": "WARNING",
            # Every test signs in from 127.0.0.1: the per-address limit is not under test here.
            "LIVELOOP_LOGIN_ATTEMPTS_PER_ADDRESS": "10000/minute",
            "LIVELOOP_LOGIN_ATTEMPTS_PER_ACCOUNT": "1000/minute",
        }
    )
    return env


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    base = tmp_path_factory.mktemp("e2e")
    settings = Settings(
        env=Environment.test,
        database_url=f"sqlite+aiosqlite:///{base / 'liveloop.db'}",
        redis_url=None,
        secret_key=SECRET_KEY,  # type: ignore[arg-type]
        var_dir=base / "var",
        media_dir=base / "var" / "media",
        log_json=False,
        outbox_in_process=True,
        login_attempts_per_address="10000/minute",
        login_attempts_per_account="1000/minute",
    )
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    _prepare_database(settings)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    log_path = base / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "liveloop.app:create_app",
                "--factory",
                "--fd",
                str(sock.fileno()),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=base,  # no stray .env from the checkout
            env=_server_env(settings),
            pass_fds=(sock.fileno(),),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    sock.close()
    server = LiveServer(f"http://127.0.0.1:{port}", settings, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"the e2e server exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the e2e server did not start in {START_TIMEOUT:.0f} s:\n{server.log()}")
        time.sleep(0.1)
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="package")
async def e2e_container(live_server: LiveServer) -> AsyncIterator[Container]:
    container = bootstrap(live_server.settings)
    yield container
    await container.close()


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


ContextKind = Literal["desktop", "phone"]
MakeContext = Callable[..., Awaitable[BrowserContext]]

VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 3,
        "is_mobile": True,
        "has_touch": True,
    },
}


@pytest.fixture
async def make_context(browser: Browser, live_server: LiveServer) -> AsyncIterator[MakeContext]:
    """New browser contexts (each its own cookie jar), closed after the test."""
    made: list[BrowserContext] = []

    async def make(kind: ContextKind = "desktop", **options: Any) -> BrowserContext:
        settings = {
            "base_url": live_server.url,
            "locale": "en-GB",
            "timezone_id": "Europe/London",
            **VIEWPORTS[kind],
            **options,
        }
        context = await browser.new_context(**settings)
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        await context.close()


@pytest.fixture
async def desktop_context(make_context: MakeContext) -> BrowserContext:
    return await make_context("desktop")


@pytest.fixture
async def phone_context(make_context: MakeContext) -> BrowserContext:
    return await make_context("phone")


Login = Callable[..., Awaitable[None]]


@pytest.fixture
def login(live_server: LiveServer) -> Login:
    """Sign a browser context in as a demo user (through the API, so no page load is spent);
    the session cookie lands in the context's cookie jar."""

    async def sign_in(
        target: Page | BrowserContext, email: str, password: str = DEMO_PASSWORD
    ) -> None:
        context = target.context if isinstance(target, Page) else target
        response = await context.request.post(
            live_server.url + "/api/v1/auth/login",
            data={"email": email, "password": password},
        )
        assert response.ok, await response.text()

    return sign_in


Screenshot = Callable[[Page, str], Awaitable[Path]]


@pytest.fixture
def screenshot() -> Screenshot:
    async def take(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    return take
