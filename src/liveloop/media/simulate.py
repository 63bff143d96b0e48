"""A simulated host: ffmpeg publishes a test pattern with the wall clock burnt in and a tone to a
live session, as OBS would (for development, the demo and tests)."""

from __future__ import annotations

import asyncio
import functools
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.kit.db import commit
from liveloop.media.errors import LiveSessionNotFound, MediaToolMissing
from liveloop.media.service import Media
from liveloop.media.tools import stop_process

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)


@dataclass(frozen=True, slots=True)
class TestPattern:
    """What the simulated camera sends."""

    width: int = 640
    height: int = 360
    fps: int = 30
    video_kbps: int = 1000
    tone_hz: int = 440
    clock: bool = True
    """Burn the UTC wall clock and the frame number into the picture."""


@functools.cache
def _drawtext_available(ffmpeg: str) -> bool:
    try:
        filters = subprocess.run(
            [ffmpeg, "-hide_banner", "-filters"], capture_output=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return b" drawtext " in filters


def clock_filter(ffmpeg: str, height: int) -> str | None:
    """The drawtext filter for the burnt-in clock, or None without a font or drawtext."""
    font = next((f for f in FONT_CANDIDATES if f.exists()), None)
    if font is None or not _drawtext_available(ffmpeg):
        return None
    size = max(12, height // 12)
    # `\:` separates drawtext's function arguments; `\\\:` is a literal colon in the format.
    text = r"%{gmtime\:%H\\\:%M\\\:%S} UTC  frame %{n}"
    return (
        f"drawtext=fontfile={font}:text='{text}':fontsize={size}:fontcolor=white"
        ":box=1:boxcolor=black@0.6:boxborderw=6:x=(w-tw)/2:y=h-th-20"
    )


def publisher_args(
    ffmpeg: str, publish_url: str, pattern: TestPattern, *, seconds: float | None = None
) -> list[str]:
    """ffmpeg's arguments to publish the test pattern in real time; one keyframe a second, so
    nginx cuts one-second segments."""
    args = [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", f"testsrc2=size={pattern.width}x{pattern.height}:rate={pattern.fps}",
        "-f", "lavfi", "-i", f"sine=frequency={pattern.tone_hz}:sample_rate=44100",
    ]  # fmt: skip
    if seconds is not None:
        args += ["-t", f"{seconds:g}"]
    drawtext = clock_filter(ffmpeg, pattern.height) if pattern.clock else None
    if drawtext:
        args += ["-vf", drawtext]
    args += [
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
        "-g", str(pattern.fps), "-keyint_min", str(pattern.fps), "-sc_threshold", "0",
        "-b:v", f"{pattern.video_kbps}k", "-maxrate", f"{pattern.video_kbps * 12 // 10}k",
        "-bufsize", f"{pattern.video_kbps * 2}k",
        "-c:a", "aac", "-b:a", "96k", "-ar", "44100",
        "-f", "flv", publish_url,
    ]  # fmt: skip
    return args


async def issue_key_as_host(
    media: Media, sessionmaker: async_sessionmaker[AsyncSession], live_session_id: uuid.UUID
) -> str:
    """A fresh stream key for the session (as its host would get one); its publish URL."""
    async with sessionmaker() as session:
        permission = await media.live_sessions.may_publish(session, live_session_id)
        if permission is None:
            raise LiveSessionNotFound("No such live session.")
        issued = await media.issue_stream_key(session, live_session_id, actor_id=permission.host_id)
        await commit(session)
    return issued.publish_url


async def simulate(
    media: Media,
    sessionmaker: async_sessionmaker[AsyncSession],
    live_session_id: uuid.UUID,
    *,
    seconds: float | None = None,
    pattern: TestPattern | None = None,
    publish_url: str | None = None,
) -> int:
    """Publish the test pattern to the session until `seconds` pass (or forever, until
    cancelled); ffmpeg's exit code (1 when nginx refused the publisher). Issuing a key for the
    simulation replaces the host's current key."""
    ffmpeg = shutil.which(media.config.ffmpeg)
    if ffmpeg is None:
        raise MediaToolMissing("ffmpeg is not installed on this machine.")
    url = publish_url or await issue_key_as_host(media, sessionmaker, live_session_id)
    process = await asyncio.create_subprocess_exec(
        *publisher_args(ffmpeg, url, pattern or TestPattern(), seconds=seconds),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        return await process.wait()
    finally:
        await stop_process(process)
