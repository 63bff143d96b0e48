"""Media's background work: ending sessions whose grace period ran out, building replays and
transcoding uploaded videos. The state is in the database, so any process may do the work
(each job is claimed with a conditional update) and a restart loses nothing.

`run_due()` does everything that is due now and returns (tests, scripts); `run()` is the loop
the API process (or `liveloop worker`) keeps going, woken when new work commits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.kit import outbox
from liveloop.kit.db import commit
from liveloop.media import events, replay
from liveloop.media import repository as repo
from liveloop.media.models import (
    ConnectionStatus,
    Recording,
    RecordingStatus,
    VideoAsset,
    VideoStatus,
)
from liveloop.media.nginx import remove_stream_files
from liveloop.media.service import Media, stream_name
from liveloop.media.tools import ToolFailed
from liveloop.media.transcode import (
    remove_prefix,
    rendition_json,
    store_file,
    transcode,
    video_key,
)

log = logging.getLogger("liveloop.media.jobs")

MAX_ATTEMPTS = 3
TRANSCODE_STALE = timedelta(minutes=2)
"""A transcode that has not reported progress for this long lost its worker; it is redone."""
REPLAY_LEASE = timedelta(minutes=30)


@dataclass
class DueReport:
    ended: list[uuid.UUID] = field(default_factory=list)
    replays: list[uuid.UUID] = field(default_factory=list)
    videos: list[uuid.UUID] = field(default_factory=list)


class MediaJobs:
    def __init__(
        self,
        media: Media,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        poll_seconds: float = 5.0,
    ) -> None:
        self.media = media
        self.config = media.config
        self._sessionmaker = sessionmaker
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._active: dict[uuid.UUID, asyncio.Task[Any]] = {}
        self._transcoding: set[uuid.UUID] = set()
        media.on_wake(self.wake)

    def wake(self) -> None:
        self._wake.set()

    def _now(self, now: datetime | None) -> datetime:
        return now or self.media.clock()

    # -- the grace period --------------------------------------------------------------------

    async def end_due_sessions(self, now: datetime | None = None) -> list[uuid.UUID]:
        async with self._sessionmaker() as session:
            ended = await self.media.end_due_sessions(session, now=self._now(now))
            await commit(session)
        for live_session_id in ended:
            remove_stream_files(self.config, stream_name(live_session_id))
        return ended

    # -- replays -----------------------------------------------------------------------------

    async def build_replay(self, recording_id: uuid.UUID, now: datetime | None = None) -> bool:
        """Build one replay if it is due and nobody else does; True when it is finished
        (ready, empty or failed for good)."""
        now = self._now(now)
        async with self._sessionmaker() as session:
            if not await repo.claim_recording(session, recording_id, now, now + REPLAY_LEASE):
                return False
            recording = await session.get(Recording, recording_id)
            assert recording is not None
            connections = await repo.connections_of_session(session, recording.live_session_id)
            waiting = [
                c
                for c in connections
                if (
                    c.status is ConnectionStatus.live
                    and c.last_seen_at > now - self.config.stale_after
                )
                or (
                    c.record_path is None
                    and c.stopped_at is not None
                    and c.stopped_at > now - replay.RECORD_DONE_WAIT
                )
            ]
            if waiting:  # nginx has not finished writing a part yet
                recording.next_attempt_at = now + timedelta(seconds=2)
                await commit(session)
                return False
            parts = [
                replay.RecordedPart(
                    Path(c.record_path),
                    c.clock_anchor_ms
                    if c.clock_anchor_ms is not None
                    else int(c.started_at.timestamp() * 1000),
                )
                for c in connections
                if c.record_path
            ]
            live_session_id = recording.live_session_id
            await commit(session)
        work = self.config.work_dir / "replays" / str(recording_id)
        try:
            built = await replay.build(self.config, parts, work)
            if built is None:
                await self._finish_replay(recording_id, RecordingStatus.empty)
            else:
                output, joined, total = built
                key = replay.replay_key(live_session_id, recording_id)
                store_file(self.media.storage, key, output)
                await self._finish_replay(
                    recording_id, RecordingStatus.ready, key=key, parts=joined, total=total
                )
        except (replay.ReplayBuildFailed, OSError) as exc:
            log.warning("replay build failed", extra={"recording_id": str(recording_id)})
            return await self._replay_failed(recording_id, str(exc), now)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        for part in parts:
            part.path.unlink(missing_ok=True)
        return True

    async def _finish_replay(
        self,
        recording_id: uuid.UUID,
        status: RecordingStatus,
        *,
        key: str | None = None,
        parts: list[replay.Part] | None = None,
        total: int | None = None,
    ) -> None:
        async with self._sessionmaker() as session:
            recording = await session.get(Recording, recording_id)
            assert recording is not None
            recording.status = status
            recording.next_attempt_at = None
            recording.error = None
            if key is not None and parts:
                recording.storage_key = key
                recording.parts = [p.to_json() for p in parts]
                recording.started_at = replay_start(parts[0])
                recording.duration_ms = total
                outbox.record(
                    session,
                    events.REPLAY_READY,
                    aggregate_type="live_session",
                    aggregate_id=recording.live_session_id,
                    payload={
                        "live_session_id": recording.live_session_id,
                        "recording_id": recording.id,
                        "duration_ms": total,
                    },
                )
            await commit(session)

    async def _replay_failed(self, recording_id: uuid.UUID, error: str, now: datetime) -> bool:
        async with self._sessionmaker() as session:
            recording = await session.get(Recording, recording_id)
            assert recording is not None
            recording.attempts += 1
            recording.error = error[:2000]
            final = recording.attempts >= MAX_ATTEMPTS
            if final:
                recording.status = RecordingStatus.failed
                recording.next_attempt_at = None
            else:
                recording.next_attempt_at = now + timedelta(seconds=30 * recording.attempts)
            await commit(session)
        return final

    async def due_replays(self, now: datetime | None = None) -> list[uuid.UUID]:
        async with self._sessionmaker() as session:
            return [r.id for r in await repo.due_recordings(session, self._now(now))]

    # -- uploaded videos ---------------------------------------------------------------------

    async def transcode_video(self, video_id: uuid.UUID) -> bool:
        """Transcode one uploaded video if nobody else has taken it; True when it was done
        here (ready or failed)."""
        now = self.media.clock()
        async with self._sessionmaker() as session:
            if not await repo.claim_video(session, video_id, now):
                return False
            video = await session.get(VideoAsset, video_id)
            assert video is not None
            width, height = video.width, video.height
            duration_s = video.duration_ms / 1000
            has_audio = video.audio_codec is not None
            await commit(session)
        source = self.media.incoming_path(video_id)
        work = self.config.work_dir / "transcode" / str(video_id)
        last_write = 0.0

        async def progress(percent: int) -> None:
            nonlocal last_write
            if time.monotonic() - last_write < 1.0 and percent < 99:
                return
            last_write = time.monotonic()
            async with self._sessionmaker() as session:
                video = await session.get(VideoAsset, video_id)
                if video is not None:
                    video.progress = percent
                    video.claimed_at = self.media.clock()
                    await commit(session)

        try:
            outputs, poster = await transcode(
                self.config,
                source,
                work,
                width=width,
                height=height,
                duration_s=duration_s,
                has_audio=has_audio,
                on_progress=progress,
            )
            renditions = []
            for target, path in outputs:
                key = video_key(video_id, f"{target.name}.mp4")
                renditions.append(
                    rendition_json(target, key, store_file(self.media.storage, key, path))
                )
            poster_key = video_key(video_id, "poster.jpg")
            store_file(self.media.storage, poster_key, poster)
        except (ToolFailed, OSError) as exc:
            remove_prefix(self.media.storage, f"videos/{video_id}")
            await self._video_failed(video_id, str(exc))
            source.unlink(missing_ok=True)
            return True
        finally:
            shutil.rmtree(work, ignore_errors=True)
        async with self._sessionmaker() as session:
            video = await session.get(VideoAsset, video_id)
            assert video is not None
            video.status = VideoStatus.ready
            video.progress = 100
            video.renditions = renditions
            video.poster_key = poster_key
            video.ready_at = self.media.clock()
            video.error = None
            outbox.record(
                session,
                events.VIDEO_READY,
                aggregate_type="video",
                aggregate_id=video_id,
                payload={"video_id": video_id, "owner_id": video.owner_id},
                actor_id=video.owner_id,
            )
            await commit(session)
        source.unlink(missing_ok=True)
        return True

    async def _video_failed(self, video_id: uuid.UUID, error: str) -> None:
        log.warning("transcode failed", extra={"video_id": str(video_id), "error": error[:300]})
        async with self._sessionmaker() as session:
            video = await session.get(VideoAsset, video_id)
            assert video is not None
            video.status = VideoStatus.failed
            video.error = _short(error.replace(str(self.config.work_dir), "…"))
            outbox.record(
                session,
                events.VIDEO_FAILED,
                aggregate_type="video",
                aggregate_id=video_id,
                payload={"video_id": video_id, "owner_id": video.owner_id, "error": video.error},
                actor_id=video.owner_id,
            )
            await commit(session)

    async def reclaim_abandoned(self, now: datetime | None = None) -> int:
        """Give transcodes whose worker died back to the queue (or fail them after 3 tries)."""
        now = self._now(now)
        async with self._sessionmaker() as session:
            abandoned = await repo.abandoned_videos(session, now - TRANSCODE_STALE)
            for video in abandoned:
                if video.id in self._transcoding:
                    continue
                if video.attempts >= MAX_ATTEMPTS:
                    video.status = VideoStatus.failed
                    video.error = "The transcode was interrupted too many times."
                else:
                    video.status = VideoStatus.uploaded
            await commit(session)
        return len(abandoned)

    async def waiting_videos(self) -> list[uuid.UUID]:
        async with self._sessionmaker() as session:
            return await repo.videos_waiting(session)

    # -- running -----------------------------------------------------------------------------

    async def run_due(self, now: datetime | None = None) -> DueReport:
        """Do everything due now, one job after another, and return what was done."""
        report = DueReport()
        report.ended = await self.end_due_sessions(now)
        for recording_id in await self.due_replays(now):
            if await self.build_replay(recording_id, now):
                report.replays.append(recording_id)
        await self.reclaim_abandoned(now)
        for video_id in await self.waiting_videos():
            if await self.transcode_video(video_id):
                report.videos.append(video_id)
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Keep doing due work until `stop` is set; long jobs run as tasks of their own, so a
        transcode never delays the end of a session."""
        try:
            while not stop.is_set():
                self._wake.clear()
                timeout = self._poll
                try:
                    await self.end_due_sessions()
                    await self.reclaim_abandoned()
                    for recording_id in await self.due_replays():
                        self._start(recording_id, self.build_replay(recording_id))
                    for video_id in await self.waiting_videos():
                        if len(self._transcoding) >= self.config.transcode_concurrency:
                            break
                        if video_id not in self._active:
                            self._transcoding.add(video_id)
                            self._start(video_id, self.transcode_video(video_id))
                    async with self._sessionmaker() as session:
                        due = await self.media.next_due_at(session)
                    if due is not None:
                        wait = (due - self.media.clock()).total_seconds()
                        timeout = min(self._poll, max(0.05, wait))
                except Exception:
                    log.exception("media jobs pass failed")
                await _wait_any(self._wake, stop, timeout)
        finally:
            for task in list(self._active.values()):
                task.cancel()
            if self._active:
                await asyncio.gather(*self._active.values(), return_exceptions=True)

    def _start(self, job_id: uuid.UUID, coro: Any) -> None:
        if job_id in self._active:
            coro.close()
            return

        async def job() -> None:
            try:
                await coro
            except Exception:
                log.exception("media job failed", extra={"job_id": str(job_id)})
            finally:
                self._active.pop(job_id, None)
                self._transcoding.discard(job_id)
                self.wake()

        self._active[job_id] = asyncio.ensure_future(job())


def replay_start(part: replay.Part) -> datetime:
    return datetime.fromtimestamp(part.started_ms / 1000, UTC)


def _short(error: str) -> str:
    lines = [line for line in error.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "transcode failed")[:500]


async def _wait_any(wake: asyncio.Event, stop: asyncio.Event, seconds: float) -> None:
    waiters = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())}
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
