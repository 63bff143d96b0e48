"""A browser plays the live stream: hls.js in Debian's chromium loads liveloop's playlists (and
nginx's segments, from another origin) and dates the picture on screen by its program
date-time, which is how the page knows when to reveal a pin."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.integration.media.conftest import LiveStack, wait_for
from tests.integration.media.test_live_stream import publish_url

pytestmark = [pytest.mark.media, pytest.mark.browser, pytest.mark.slow]

HLS_JS = Path(__file__).resolve().parents[3] / "src/liveloop/web/static/vendor/hls.min.js"
START = """(url) => new Promise((resolve, reject) => {
  const video = document.getElementById('v');
  const hls = new Hls({liveSyncDurationCount: 3});
  window.hls = hls;
  hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) reject(data.type + ': ' + data.details); });
  hls.loadSource(url);
  hls.attachMedia(video);
  video.addEventListener('playing', () => resolve(true), {once: true});
  video.play().catch(() => {});
})"""
SAMPLE = """() => ({
  now: Date.now(),
  playing: hls.playingDate ? hls.playingDate.getTime() : null,
  time: document.getElementById('v').currentTime,
})"""


async def test_hls_js_plays_the_stream_and_knows_which_moment_is_on_screen(
    live_stack_factory: Any, committing_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from playwright.async_api import async_playwright

    stack: LiveStack = live_stack_factory()
    sid = stack.live_sessions.add(uuid.uuid4())
    stack.publisher(await publish_url(stack, committing_sessionmaker, sid), seconds=25)
    master = f"{stack.server.url}/api/v1/live-sessions/{sid}/hls/master.m3u8"
    playlist = stack.config.source_hls_dir / str(sid) / "index.m3u8"

    async def three_segments() -> bool:
        return playlist.exists() and playlist.read_text().count(".ts") >= 3

    await wait_for(three_segments, seconds=20, what="three segments")
    published_from = time.time() * 1000 - 10_000
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
            await page.goto(f"{stack.server.url}/healthz")  # liveloop's origin, as its pages
            await page.set_content('<video id="v" muted autoplay playsinline></video>')
            await page.add_script_tag(path=str(HLS_JS))
            assert await page.evaluate(START, master) is True

            async def dated() -> dict[str, float] | None:
                sample: dict[str, float] = await page.evaluate(SAMPLE)
                return sample if sample["playing"] is not None and sample["time"] > 0 else None

            first = await wait_for(dated, seconds=15, what="a dated picture")

            async def advanced() -> dict[str, float] | None:
                sample: dict[str, float] = await page.evaluate(SAMPLE)
                return sample if sample["time"] >= first["time"] + 1.0 else None

            later = await wait_for(advanced, seconds=15, what="playback to advance")
        finally:
            await browser.close()
    for sample in (first, later):
        behind = sample["now"] - sample["playing"]
        # at the live edge hls.js plays 3 one-second segments back: seconds, not minutes
        assert 1_000 < behind < 10_000, behind
        assert sample["playing"] > published_from
    # the picture's date moves with playback, as the pins' reveal needs
    moved = later["playing"] - first["playing"]
    assert abs(moved - (later["time"] - first["time"]) * 1000) < 250
