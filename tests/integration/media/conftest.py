"""Media test helpers: a fake live context, media configured in a temp directory, the app with
media's routes, and (for the end-to-end tests) liveloop served by uvicorn with its own nginx."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.app import create_app
from liveloop.bootstrap import Container, bootstrap
from liveloop.kit.settings import Settings
from liveloop.kit.storage import LocalMediaStorage
from liveloop.media import endpoints as media_endpoints
from liveloop.media.config import MediaConfig
from liveloop.media.gateway import PublishPermission, ReplayPin
from liveloop.media.jobs import MediaJobs
from liveloop.media.nginx import MediaServer, free_port
from liveloop.media.service import Media

CALLBACK_SECRET = "test-callback-secret"


@dataclass
class FakeLiveSession:
    host_id: uuid.UUID
    state: str = "scheduled"
    banned: bool = False
    pins: list[ReplayPin] = field(default_factory=list)


class FakeLiveSessions:
    """The live context as media sees it, in memory, recording every call media makes."""

    def __init__(self) -> None:
        self.sessions: dict[uuid.UUID, FakeLiveSession] = {}
        self.calls: list[tuple[str, uuid.UUID, dict[str, Any]]] = []
        self.called_at: list[float] = []
        """Wall-clock time of each call (time.time()), for the end-to-end tests' timing."""
        self._lock = threading.Lock()  # the end-to-end tests call it from uvicorn's thread

    def add(self, host_id: uuid.UUID, *, state: str = "scheduled") -> uuid.UUID:
        session_id = uuid.uuid4()
        self.sessions[session_id] = FakeLiveSession(host_id=host_id, state=state)
        return session_id

    def calls_of(self, kind: str, session_id: uuid.UUID) -> list[dict[str, Any]]:
        with self._lock:
            return [data for k, s, data in self.calls if k == kind and s == session_id]

    def times_of(self, kind: str, session_id: uuid.UUID) -> list[float]:
        with self._lock:
            return [
                at
                for (k, s, _), at in zip(self.calls, self.called_at, strict=True)
                if k == kind and s == session_id
            ]

    def _record(self, kind: str, session_id: uuid.UUID, **data: Any) -> None:
        with self._lock:
            self.calls.append((kind, session_id, data))
            self.called_at.append(time.time())

    async def may_publish(
        self, session: AsyncSession, live_session_id: uuid.UUID
    ) -> PublishPermission | None:
        found = self.sessions.get(live_session_id)
        if found is None:
            return None
        return PublishPermission(
            live_session_id=live_session_id,
            host_id=found.host_id,
            state=found.state,  # type: ignore[arg-type]
            host_banned=found.banned,
        )

    async def mark_live(
        self, session: AsyncSession, live_session_id: uuid.UUID, *, started_at: datetime
    ) -> None:
        self.sessions[live_session_id].state = "live"
        self._record("live", live_session_id, started_at=started_at)

    async def mark_dropped(
        self, session: AsyncSession, live_session_id: uuid.UUID, *, dropped_at: datetime
    ) -> None:
        self._record("dropped", live_session_id, dropped_at=dropped_at)

    async def mark_ended(
        self,
        session: AsyncSession,
        live_session_id: uuid.UUID,
        *,
        ended_at: datetime,
        reason: str,
    ) -> None:
        self.sessions[live_session_id].state = "ended"
        self._record("ended", live_session_id, ended_at=ended_at, reason=reason)

    async def pins_for_replay(
        self, session: AsyncSession, live_session_id: uuid.UUID
    ) -> list[ReplayPin]:
        return list(self.sessions[live_session_id].pins)


@pytest.fixture
def live_sessions() -> FakeLiveSessions:
    return FakeLiveSessions()


@pytest.fixture
def media_config(tmp_path: Path) -> MediaConfig:
    return MediaConfig(
        prefix=tmp_path / "nginx",
        media_dir=tmp_path / "media",
        work_dir=tmp_path / "work",
        callback_secret=CALLBACK_SECRET,
        ladder=(),
        grace=timedelta(seconds=30),
        update_seconds=1,
        max_upload_bytes=2_000_000,
        max_upload_seconds=10.0,
        video_heights=(360, 180),
    )


class FakeClock:
    """Media's clock in tests: stands still until moved."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def media(media_config: MediaConfig, live_sessions: FakeLiveSessions, clock: FakeClock) -> Media:
    return Media(
        media_config,
        live_sessions=live_sessions,
        storage=LocalMediaStorage(media_config.media_dir),
        clock=clock,
    )


def media_app(settings: Settings, container: Container, media: Media) -> Any:
    """liveloop's app with media's routes and service (until the container builds them)."""
    settings = settings.model_copy(update={"max_body_bytes": 50_000_000})
    app = create_app(settings, container=container)
    app.include_router(media_endpoints.router)
    container.media = media  # type: ignore[attr-defined]
    return app


@pytest.fixture
async def media_client(
    settings: Settings, container: Container, media: Media
) -> AsyncIterator[httpx.AsyncClient]:
    """The app in process; requests come from 127.0.0.1, where nginx's callbacks come from."""
    transport = httpx.ASGITransport(
        app=media_app(settings, container, media), client=("127.0.0.1", 40000)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def jobs(media: Media, sessionmaker: async_sessionmaker[AsyncSession]) -> MediaJobs:
    return MediaJobs(media, sessionmaker)


async def wait_for(
    condition: Callable[[], Awaitable[Any]], *, seconds: float, what: str, every: float = 0.1
) -> Any:
    """Poll `condition` until it returns something truthy, failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        await asyncio.sleep(every)


# -- end to end: uvicorn + nginx + ffmpeg ------------------------------------------------------


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class LiveServer:
    """liveloop (with media) served by uvicorn in a thread with its own event loop and database
    engine, so that nginx can call it back; media's jobs run in it as in production."""

    def __init__(self, settings: Settings, media: Media, port: int) -> None:
        self.settings = settings
        self.media = media
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._run, name="liveloop-test-server", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self._error = exc

    async def _serve(self) -> None:
        container = bootstrap(self.settings)
        app = media_app(self.settings, container, self.media)
        stop = asyncio.Event()
        jobs = MediaJobs(self.media, container.sessionmaker, poll_seconds=0.5)
        runner = asyncio.ensure_future(jobs.run(stop))
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        try:
            await self._server.serve()
        finally:
            stop.set()
            await runner
            await container.close()

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not _listening(self.port):
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"the test server did not start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start in 20 s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(20)


@dataclass
class LiveStack:
    server: LiveServer
    nginx: MediaServer
    media: Media
    live_sessions: FakeLiveSessions
    config: MediaConfig
    publishers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def host_media(self) -> Media:
        """A media service for the test's own event loop (the server's wakes its own jobs)."""
        return Media(
            self.config,
            live_sessions=self.live_sessions,
            storage=LocalMediaStorage(self.config.media_dir),
        )

    def publisher(self, publish_url: str, *, seconds: float) -> subprocess.Popen[bytes]:
        """ffmpeg publishing a small test pattern in real time, as OBS would."""
        from liveloop.media.simulate import TestPattern, publisher_args

        ffmpeg = shutil.which("ffmpeg")
        assert ffmpeg is not None
        pattern = TestPattern(width=320, height=180, fps=25, video_kbps=300, clock=False)
        process = subprocess.Popen(
            publisher_args(ffmpeg, publish_url, pattern, seconds=seconds),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.publishers.append(process)
        return process


@pytest.fixture
def live_stack_factory(
    settings: Settings,
    media_config: MediaConfig,
    live_sessions: FakeLiveSessions,
    committing_sessionmaker: async_sessionmaker[AsyncSession],
) -> Iterator[Callable[..., LiveStack]]:
    """Start liveloop and nginx on free ports (nginx in this test's own prefix); both are
    stopped, and every ffmpeg the test started is killed, at the end."""
    started: list[LiveStack] = []

    def start(**overrides: Any) -> LiveStack:
        app_port, rtmp_port, http_port = free_port(), free_port(), free_port()
        config = replace(
            media_config,
            rtmp_port=rtmp_port,
            http_port=http_port,
            callback_url=f"http://127.0.0.1:{app_port}",
            public_rtmp_url=f"rtmp://127.0.0.1:{rtmp_port}/live",
            public_hls_url=f"http://127.0.0.1:{http_port}/hls",
            public_base_url=f"http://127.0.0.1:{app_port}",
            **overrides,
        )
        media = Media(
            config, live_sessions=live_sessions, storage=LocalMediaStorage(config.media_dir)
        )
        server = LiveServer(settings, media, app_port)
        server.start()
        nginx = MediaServer(config)
        try:
            nginx.start()
        except BaseException:
            server.stop()
            raise
        stack = LiveStack(server, nginx, media, live_sessions, config)
        started.append(stack)
        return stack

    yield start
    for stack in started:
        for process in stack.publishers:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stderr is not None:
                process.stderr.close()
        stack.nginx.stop()
        stack.server.stop()
