"""End to end with the real tools: ffmpeg publishes to liveloop's nginx, nginx calls liveloop
(served by uvicorn) back, viewers get HLS with program date-times, and the recording becomes a
replay with its pins."""

from __future__ import annotations

import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.kit.db import commit
from liveloop.media import hls
from liveloop.media.config import RENDITIONS
from liveloop.media.gateway import ReplayPin
from liveloop.media.models import IngestConnection, Recording
from liveloop.media.service import stream_name
from tests.integration.media.conftest import LiveStack, wait_for

pytestmark = [pytest.mark.media, pytest.mark.slow]


async def publish_url(
    stack: LiveStack, sessions: async_sessionmaker[AsyncSession], live_session_id: uuid.UUID
) -> str:
    """A stream key, issued as the host would get one."""
    media = stack.host_media()
    host_id = stack.live_sessions.sessions[live_session_id].host_id
    async with sessions() as session:
        issued = await media.issue_stream_key(session, live_session_id, actor_id=host_id)
        await commit(session)
    return issued.publish_url


async def exited(process: subprocess.Popen[bytes], seconds: float) -> int:
    return int(
        await wait_for(
            lambda: _returncode(process), seconds=seconds, what="ffmpeg to exit", every=0.05
        )
        - 1000
    )


async def _returncode(process: subprocess.Popen[bytes]) -> int | None:
    code = process.poll()
    return None if code is None else code + 1000  # truthy even for 0


def pdt_ms(text: str) -> list[int]:
    return [
        int(datetime.fromisoformat(line.split(":", 1)[1]).timestamp() * 1000)
        for line in text.splitlines()
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME:")
    ]


async def test_a_valid_key_makes_the_session_live_with_growing_hls_in_two_renditions(
    live_stack_factory: object, committing_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    stack: LiveStack = live_stack_factory(ladder=(RENDITIONS["360p"],))  # type: ignore[operator]
    sid = stack.live_sessions.add(uuid.uuid4())
    publisher = stack.publisher(await publish_url(stack, committing_sessionmaker, sid), seconds=12)
    await wait_for(
        lambda: _async(stack.live_sessions.calls_of("live", sid)), seconds=10, what="going live"
    )
    assert stack.live_sessions.sessions[sid].state == "live"

    async with httpx.AsyncClient(base_url=stack.server.url, timeout=10) as http:

        async def both_renditions() -> dict[str, object] | None:
            body: dict[str, object] = (
                await http.get(f"/api/v1/live-sessions/{sid}/playback")
            ).json()
            return body if body["live"] and len(body["renditions"]) == 2 else None  # type: ignore[arg-type]

        playback = await wait_for(both_renditions, seconds=15, what="two renditions")
        assert playback["program_date_time"] is True
        assert [r["name"] for r in playback["renditions"]] == ["source", "360p"]
        master = await http.get(str(playback["hls_url"]))
        assert master.headers["content-type"].startswith(hls.CONTENT_TYPE)
        assert master.text.count("#EXT-X-STREAM-INF:") == 2
        assert "RESOLUTION=640x360" in master.text

        source_url = f"/api/v1/live-sessions/{sid}/hls/source.m3u8"
        first = await http.get(source_url)
        assert first.headers["cache-control"] == "no-cache"
        playlist = hls.parse(first.text)
        assert playlist.segments
        dates = pdt_ms(first.text)
        assert len(dates) == len(playlist.segments)
        now_ms = int(time.time() * 1000)
        assert now_ms - 10_000 < dates[-1] <= now_ms  # the newest frames are seconds old
        newest = playlist.segments[-1].uri
        assert newest.startswith(f"{stack.config.public_hls_url}/src/{stream_name(sid)}/")
        segment = await http.get(newest)
        assert segment.status_code == 200
        assert segment.headers["content-type"] == "video/mp2t"
        assert segment.headers["access-control-allow-origin"] == "*"
        assert segment.content[0] == 0x47  # MPEG-TS sync byte

        # the playlist keeps growing: later segments appear as the stream goes on
        end = playlist.media_sequence + len(playlist.segments)

        async def grown() -> hls.MediaPlaylist | None:
            later = hls.parse((await http.get(source_url)).text)
            return later if later.media_sequence + len(later.segments) >= end + 2 else None

        later = await wait_for(grown, seconds=10, what="two more segments")
        assert later.segments[-1].start_ms > playlist.segments[-1].start_ms  # type: ignore[operator]

        # the 360p rendition's segments carry the source's dates (ffmpeg keeps its keyframes)
        source_text = (await http.get(source_url)).text
        lower_text = (await http.get(f"/api/v1/live-sessions/{sid}/hls/360p.m3u8")).text
        shared = set(pdt_ms(lower_text)) & set(pdt_ms(source_text))
        assert len(shared) >= 2

        latency = (await http.get(f"/api/v1/live-sessions/{sid}/playback")).json()["latency"]
        assert 0 <= latency["ingest_lag_ms"] < 3000
        assert latency["expected_viewer_delay_ms"] == latency["ingest_lag_ms"] + 3000

    assert await exited(publisher, 20) == 0


async def _async(value: object) -> object:
    return value


async def test_an_invalid_key_or_an_ended_session_is_refused_and_nothing_changes(
    live_stack_factory: object, committing_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    stack: LiveStack = live_stack_factory()  # type: ignore[operator]
    sid = stack.live_sessions.add(uuid.uuid4())
    valid = await publish_url(stack, committing_sessionmaker, sid)
    wrong = valid.split("?key=")[0] + "?key=lsk_" + "x" * 32
    assert await exited(stack.publisher(wrong, seconds=5), 15) != 0

    ended = stack.live_sessions.add(uuid.uuid4())
    ended_url = await publish_url(stack, committing_sessionmaker, ended)
    stack.live_sessions.sessions[ended].state = "ended"
    assert await exited(stack.publisher(ended_url, seconds=5), 15) != 0

    assert stack.live_sessions.calls == []
    assert stack.live_sessions.sessions[sid].state == "scheduled"
    async with committing_sessionmaker() as session:
        assert (await session.scalars(select(IngestConnection))).all() == []
    assert not (stack.config.source_hls_dir / stream_name(sid)).exists()
    assert not (stack.config.source_hls_dir / stream_name(ended)).exists()


async def test_a_second_publisher_and_a_rotated_key_are_refused(
    live_stack_factory: object, committing_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    stack: LiveStack = live_stack_factory()  # type: ignore[operator]
    sid = stack.live_sessions.add(uuid.uuid4())
    url = await publish_url(stack, committing_sessionmaker, sid)
    host = stack.publisher(url, seconds=30)
    await wait_for(
        lambda: _async(stack.live_sessions.calls_of("live", sid)), seconds=10, what="going live"
    )
    assert await exited(stack.publisher(url, seconds=5), 15) != 0
    assert host.poll() is None  # the first publisher streams on

    rotated_at = time.monotonic()
    new_url = await publish_url(stack, committing_sessionmaker, sid)
    assert new_url != url
    # nginx's next update (every second here) learns the key changed and drops the publisher
    await exited(host, 10)
    assert time.monotonic() - rotated_at < 8  # one update interval (1 s) plus a loaded machine
    assert await exited(stack.publisher(url, seconds=5), 15) != 0
    assert len(stack.live_sessions.calls_of("live", sid)) == 1


async def test_stopping_ends_the_session_after_the_grace_period_and_the_recording_is_a_replay(
    live_stack_factory: object, committing_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    grace = timedelta(seconds=3)
    stack: LiveStack = live_stack_factory(grace=grace)  # type: ignore[operator]
    sid = stack.live_sessions.add(uuid.uuid4())
    url = await publish_url(stack, committing_sessionmaker, sid)

    # 4 s of video, a drop, and a reconnect well within the grace period: the same session
    first = stack.publisher(url, seconds=4)
    assert await exited(first, 20) == 0
    await wait_for(
        lambda: _async(stack.live_sessions.calls_of("dropped", sid)), seconds=5, what="the drop"
    )
    second = stack.publisher(url, seconds=3)
    assert await exited(second, 20) == 0
    await wait_for(
        lambda: _async(len(stack.live_sessions.calls_of("dropped", sid)) == 2),
        seconds=5,
        what="the second drop",
    )
    assert stack.live_sessions.calls_of("ended", sid) == []
    [ended] = await wait_for(
        lambda: _async(stack.live_sessions.calls_of("ended", sid)), seconds=15, what="the end"
    )
    starts = [c["started_at"] for c in stack.live_sessions.calls_of("live", sid)]
    assert len(starts) == 2  # the reconnect continued the session
    [_, last_drop] = stack.live_sessions.times_of("dropped", sid)
    [ended_call] = stack.live_sessions.times_of("ended", sid)
    assert ended_call - last_drop >= grace.total_seconds()
    last_dropped_at = stack.live_sessions.calls_of("dropped", sid)[-1]["dropped_at"]
    assert ended == {"ended_at": last_dropped_at, "reason": "stream_stopped"}
    assert not (stack.config.source_hls_dir / stream_name(sid)).exists()  # HLS cleaned up

    # pins made during each part of the stream, and one during the reconnect
    pins = [
        ReplayPin(uuid.uuid4(), uuid.uuid4(), starts[0] + timedelta(seconds=1.5)),
        ReplayPin(uuid.uuid4(), uuid.uuid4(), starts[1] - timedelta(milliseconds=100)),
        ReplayPin(
            uuid.uuid4(),
            uuid.uuid4(),
            starts[1] + timedelta(seconds=2),
            unpinned_at=starts[1] + timedelta(seconds=2.5),
            media_time_ms=9000,
        ),
    ]
    stack.live_sessions.sessions[sid].pins = pins

    async with httpx.AsyncClient(base_url=stack.server.url, timeout=10) as http:

        async def ready() -> dict[str, object] | None:
            body: dict[str, object] = (await http.get(f"/api/v1/live-sessions/{sid}/replay")).json()
            assert body["status"] in ("processing", "ready"), body
            return body if body["status"] == "ready" else None

        replay = await wait_for(ready, seconds=60, what="the replay")

    async with committing_sessionmaker() as session:
        recording = await session.scalar(select(Recording).where(Recording.live_session_id == sid))
        connections = (
            await session.scalars(
                select(IngestConnection)
                .where(IngestConnection.live_session_id == sid)
                .order_by(IngestConnection.started_at)
            )
        ).all()
    assert recording is not None
    parts = recording.parts
    assert len(parts) == 2
    # each part is dated by nginx's updates: its first frame follows the go-ahead closely
    # (~30 ms on an idle machine; the bound leaves room for a loaded CI runner)
    for part, connection in zip(parts, connections, strict=True):
        started = connection.started_at.timestamp() * 1000
        assert 0 <= part["started_ms"] - started < 500
        assert connection.record_path is not None
    assert abs(parts[0]["duration_ms"] - 4000) < 300
    assert abs(parts[1]["duration_ms"] - 3000) < 300
    assert parts[1]["offset_ms"] == parts[0]["duration_ms"]
    assert abs(replay["duration_ms"] - 7000) < 500  # type: ignore[operator]
    assert replay["started_at"] == _iso(parts[0]["started_ms"])

    def at(moment: datetime, part: dict[str, int]) -> int:
        return part["offset_ms"] + int(moment.timestamp() * 1000) - part["started_ms"]

    assert [
        (p["offset_ms"], p["until_offset_ms"], p["media_time_ms"])
        for p in replay["pins"]  # type: ignore[attr-defined]
    ] == [
        (at(pins[0].pinned_at, parts[0]), None, None),
        (parts[1]["offset_ms"], None, None),  # pinned while reconnecting: the next part's start
        (at(pins[2].pinned_at, parts[1]), at(pins[2].unpinned_at, parts[1]), 9000),  # type: ignore[arg-type]
    ]

    url = str(replay["url"])
    assert replay["content_type"] == "video/mp4"
    assert url == f"/media/recordings/{sid}/{recording.id}.mp4"
    path = stack.config.media_dir / url.removeprefix("/media/")
    probe = codecs(path)
    assert sorted(probe) == ["aac", "h264"]
    # nginx's raw parts are deleted once the replay is stored
    assert [p for p in stack.config.recordings_dir.iterdir()] == []


def codecs(path: Path) -> list[str]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")
