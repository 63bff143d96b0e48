"""`python -m bench.media_latency`: how far behind the camera a viewer of a liveloop stream is.

ffmpeg publishes a test pattern in real time to liveloop's nginx (RTMP), liveloop serves the HLS
playlists with program date-times, and hls.js in Debian's chromium plays them at the live edge.

What is measured, on one clock (this machine's):
- publisher leg: ffmpeg's `-progress` says which stream time it has sent at which wall time;
  nginx's updates say which stream time has arrived at which wall time. The least-delayed pair
  of each gives the wall time of stream time 0 as sent and as received; the difference is what
  encoding and the network add (localhost here: a real OBS over the internet adds its RTT).
- playlist delay: for each new segment, when it first appears in liveloop's playlist (polled
  every 50 ms) minus the wall time its last frame reached nginx (its program date-time plus
  its duration).
- screen delay: in chromium, `Date.now() - hls.playingDate` (hls.js dates the picture on screen
  with the playlist's program date-time, which is when its frame reached nginx), sampled every
  250 ms once playback runs.
glass_to_glass = publisher leg + screen delay (the picture's age when shown, from the moment
ffmpeg sent it). What is not in it: a camera's capture and OBS's encoder buffer before ffmpeg's
equivalent point, and the display's refresh (one frame).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop import migrations
from liveloop.app import create_app
from liveloop.bootstrap import bootstrap
from liveloop.kit.db import commit, create_engine, create_sessionmaker
from liveloop.kit.settings import Environment, Settings
from liveloop.kit.storage import LocalMediaStorage
from liveloop.media import endpoints as media_endpoints
from liveloop.media import hls
from liveloop.media.config import RENDITIONS, MediaConfig
from liveloop.media.gateway import PublishPermission, ReplayPin
from liveloop.media.models import IngestConnection
from liveloop.media.nginx import MediaServer, free_port, missing_tools
from liveloop.media.service import Media
from liveloop.media.simulate import TestPattern, publisher_args

HLS_JS = Path(__file__).resolve().parent.parent / "src/liveloop/web/static/vendor/hls.min.js"


class OneSession:
    """The live context, reduced to the one session the benchmark streams to."""

    def __init__(self) -> None:
        self.id = uuid.uuid4()
        self.host = uuid.uuid4()
        self.state = "scheduled"

    async def may_publish(self, session: AsyncSession, sid: uuid.UUID) -> PublishPermission | None:
        return PublishPermission(sid, self.host, self.state) if sid == self.id else None  # type: ignore[arg-type]

    async def mark_live(
        self, session: AsyncSession, sid: uuid.UUID, *, started_at: datetime
    ) -> None:
        self.state = "live"

    async def mark_dropped(
        self, session: AsyncSession, sid: uuid.UUID, *, dropped_at: datetime
    ) -> None:
        return None

    async def mark_ended(
        self, session: AsyncSession, sid: uuid.UUID, *, ended_at: datetime, reason: str
    ) -> None:
        self.state = "ended"

    async def pins_for_replay(self, session: AsyncSession, sid: uuid.UUID) -> list[ReplayPin]:
        return []


class Server(threading.Thread):
    def __init__(self, settings: Settings, media: Media, port: int) -> None:
        super().__init__(daemon=True)
        self.settings, self.media, self.port = settings, media, port
        self.server: uvicorn.Server | None = None

    def run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        container = bootstrap(self.settings)
        app = create_app(self.settings, container=container)
        app.include_router(media_endpoints.router)
        container.media = self.media  # type: ignore[attr-defined]
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        try:
            await self.server.serve()
        finally:
            await container.close()


@dataclass
class Figures:
    segment_ms: float
    playlist_delay_ms: float
    publisher_leg_ms: float
    screen_delay_ms: float | None
    screen_samples: int


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.media_latency", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=40, help="length of the test stream")
    parser.add_argument("--size", default="640x360")
    parser.add_argument(
        "--ladder", default="none", choices=["none", "360p"], help="extra rendition"
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the chromium measurement")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="liveloop-media-bench-") as tmp:
        settings = _settings(Path(tmp))
        migrations.upgrade(settings.database_url)  # runs its own event loop
        return asyncio.run(run(args, Path(tmp), settings))


def _settings(tmp: Path) -> Settings:
    return Settings(
        env=Environment.test,
        database_url=f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        var_dir=tmp / "var",
        media_dir=tmp / "media",
        secret_key="bench-secret",  # type: ignore[arg-type]
        log_json=False,
        log_level="WARNING",
        outbox_in_process=False,
    )


async def run(args: argparse.Namespace, tmp: Path, settings: Settings) -> int:
    app_port, rtmp_port, http_port = free_port(), free_port(), free_port()
    config = MediaConfig(
        prefix=tmp / "nginx",
        media_dir=tmp / "media",
        work_dir=tmp / "work",
        callback_secret="bench",
        rtmp_port=rtmp_port,
        http_port=http_port,
        public_rtmp_url=f"rtmp://127.0.0.1:{rtmp_port}/live",
        public_hls_url=f"http://127.0.0.1:{http_port}/hls",
        public_base_url=f"http://127.0.0.1:{app_port}",
        callback_url=f"http://127.0.0.1:{app_port}",
        ladder=(RENDITIONS["360p"],) if args.ladder == "360p" else (),
        update_seconds=2,
    )
    missing = missing_tools(config)
    if missing:
        print(f"cannot run: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    live = OneSession()
    media = Media(config, live_sessions=live, storage=LocalMediaStorage(config.media_dir))
    server = Server(settings, media, app_port)
    server.start()
    await asyncio.to_thread(_wait_started, server)
    nginx = MediaServer(config)
    nginx.start()
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session:
            issued = await media.issue_stream_key(session, live.id, actor_id=live.host)
            await commit(session)
        width, height = (int(v) for v in args.size.split("x"))
        pattern = TestPattern(width=width, height=height, fps=30, video_kbps=1000, clock=True)
        command = publisher_args("ffmpeg", issued.publish_url, pattern, seconds=args.seconds)
        command[-1:-1] = ["-progress", "pipe:1", "-stats_period", "0.1"]
        publisher = _start(command)
        sent_anchors: list[float] = []
        reader = threading.Thread(
            target=_read_progress, args=(publisher, sent_anchors), daemon=True
        )
        reader.start()
        playlist_url = f"{config.public_base_url}/api/v1/live-sessions/{live.id}/hls/source.m3u8"
        master_url = f"{config.public_base_url}/api/v1/live-sessions/{live.id}/hls/master.m3u8"
        seen: dict[str, tuple[float, int, float]] = {}
        screen: list[float] = []
        async with httpx.AsyncClient(timeout=5) as http:
            poll = asyncio.ensure_future(_poll_playlist(http, playlist_url, publisher, seen))
            if not args.no_browser:
                await _wait_for_segments(seen, 3)
                screen = await _browser(master_url, min(20.0, args.seconds - 12))
            await poll
        publisher.wait()
        reader.join(5)
        async with sessions() as session:
            connection = await session.scalar(select(IngestConnection))
        received_anchor = connection.clock_anchor_ms if connection else None
        figures = _figures(seen, sent_anchors, received_anchor, screen)
    finally:
        nginx.stop()
        if server.server is not None:
            server.server.should_exit = True
        server.join(10)
        await engine.dispose()
    return _report(figures, args)


def _wait_started(server: Server) -> None:
    deadline = time.monotonic() + 20
    while server.server is None or not server.server.started:
        if time.monotonic() > deadline or not server.is_alive():
            raise RuntimeError("liveloop did not start")
        time.sleep(0.05)


def _start(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def _read_progress(process: subprocess.Popen[bytes], anchors: list[float]) -> None:
    assert process.stdout is not None
    for raw in process.stdout:
        key, _, value = raw.decode(errors="replace").strip().partition("=")
        if key == "out_time_us" and value.isdigit() and int(value) > 0:
            anchors.append(time.time() * 1000 - int(value) / 1000)


async def _poll_playlist(
    http: httpx.AsyncClient,
    url: str,
    publisher: subprocess.Popen[bytes],
    seen: dict[str, tuple[float, int, float]],
) -> None:
    while publisher.poll() is None:
        response = await http.get(url)
        now = time.time() * 1000
        if response.status_code == 200:
            for segment in hls.parse(response.text).segments:
                if segment.uri not in seen and segment.start_ms is not None:
                    seen[segment.uri] = (now, segment.start_ms, segment.duration_s)
        await asyncio.sleep(0.05)


async def _wait_for_segments(seen: dict[str, Any], count: int) -> None:
    deadline = time.monotonic() + 30
    while len(seen) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("no HLS segments appeared in 30 s")
        await asyncio.sleep(0.1)


PAGE = """<!doctype html><video id="v" muted autoplay playsinline></video>"""
START = """(url) => new Promise((resolve, reject) => {
  const video = document.getElementById('v');
  const hls = new Hls({liveSyncDurationCount: 3});
  window.hls = hls;
  hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) reject(data.details); });
  hls.loadSource(url);
  hls.attachMedia(video);
  video.addEventListener('playing', () => resolve(true), {once: true});
  video.play().catch(() => {});
})"""
SAMPLE = "() => hls.playingDate ? Date.now() - hls.playingDate.getTime() : null"


async def _browser(master_url: str, seconds: float) -> list[float]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        print("playwright is not installed: no screen measurement", file=sys.stderr)
        return []
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=[
                "--autoplay-policy=no-user-gesture-required",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = await browser.new_page()
            await page.goto(master_url.split("/api/")[0] + "/healthz")
            await page.set_content(PAGE)
            await page.add_script_tag(path=str(HLS_JS))
            await asyncio.wait_for(page.evaluate(START, master_url), 30)
            await asyncio.sleep(2)  # let hls.js settle at its live-edge position first
            samples = []
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                value = await page.evaluate(SAMPLE)
                if value is not None:
                    samples.append(float(value))
                await asyncio.sleep(0.25)
            return samples
        finally:
            await browser.close()


def _figures(
    seen: dict[str, tuple[float, int, float]],
    sent_anchors: list[float],
    received_anchor: int | None,
    screen: list[float],
) -> Figures:
    rows = sorted(seen.values(), key=lambda r: r[1])[1:-1]  # first/last are partial windows
    if not rows:
        raise RuntimeError("too few segments to measure")
    durations = [d * 1000 for _, _, d in rows]
    delays = [first_seen - (start + d * 1000) for first_seen, start, d in rows]
    leg = (received_anchor - min(sent_anchors)) if received_anchor and sent_anchors else 0.0
    return Figures(
        segment_ms=statistics.mean(durations),
        playlist_delay_ms=statistics.median(delays),
        publisher_leg_ms=leg,
        screen_delay_ms=statistics.median(screen) if screen else None,
        screen_samples=len(screen),
    )


def _report(f: Figures, args: argparse.Namespace) -> int:
    print(f"stream: {args.size} 30 fps, 1 s keyframes, {args.seconds:g} s; ladder: {args.ladder}")
    print(f"segment duration (mean)                      {f.segment_ms:8.0f} ms")
    print(f"segment end -> listed in playlist (median)   {f.playlist_delay_ms:8.0f} ms")
    print(f"publisher leg (ffmpeg sent -> nginx got)     {f.publisher_leg_ms:8.0f} ms")
    if f.screen_delay_ms is None:
        # no browser: hls.js holds 3 target durations behind the newest listed segment's end
        expected = f.playlist_delay_ms + f.segment_ms / 2 + 3 * f.segment_ms
        print(f"screen delay (estimated, no browser)         {expected:8.0f} ms")
        screen = expected
    else:
        print(
            f"screen delay, hls.js in chromium (median)   {f.screen_delay_ms:8.0f} ms"
            f"  ({f.screen_samples} samples)"
        )
        screen = f.screen_delay_ms
    glass = f.publisher_leg_ms + screen
    print(
        f"RESULT media_latency segment_ms={f.segment_ms:.0f} "
        f"playlist_delay_ms={f.playlist_delay_ms:.0f} glass_to_glass_ms={glass:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
