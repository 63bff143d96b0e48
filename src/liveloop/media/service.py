"""Media: stream keys, the decisions behind nginx's callbacks (who may publish, drops and the
grace period), playback and replay information, and accepting uploaded videos.

Other contexts call this service (the container's `media`), never media's tables. The live
session itself belongs to the live context, reached through `gateway.LiveSessions`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.kit import outbox
from liveloop.kit.db import after_commit, utcnow
from liveloop.kit.storage import LocalMediaStorage
from liveloop.media import events, hls
from liveloop.media import repository as repo
from liveloop.media.config import LADDER_APP, RENDITIONS, RTMP_APP, MediaConfig
from liveloop.media.errors import (
    CallbackForbidden,
    LiveSessionNotFound,
    NotSessionHost,
    PublishRefused,
    ReplayNotFound,
    SessionEnded,
    StreamKeyConflict,
    StreamOffline,
    VideoNotFound,
)
from liveloop.media.gateway import LiveSessions, PublishPermission
from liveloop.media.models import (
    ConnectionStatus,
    EndState,
    IngestConnection,
    Recording,
    RecordingStatus,
    StreamKey,
    VideoAsset,
)
from liveloop.media.nginx import remove_stream_files
from liveloop.media.probe import Probe
from liveloop.media.replay import Part, offset_in_replay
from liveloop.media.schemas import (
    LatencyOut,
    PlaybackOut,
    RenditionOut,
    ReplayOut,
    ReplayPinOut,
    VideoOut,
    VideoRenditionOut,
)

log = logging.getLogger("liveloop.media")

STREAM_KEY_PREFIX = "lsk_"
HLS_LIVE_EDGE_SEGMENTS = 3
"""hls.js plays this many target durations behind the newest segment (liveSyncDurationCount)."""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def stream_name(live_session_id: uuid.UUID) -> str:
    """The public name of a session's stream in nginx (its HLS directory); not a secret."""
    return str(live_session_id)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@dataclass(frozen=True, slots=True)
class IssuedStreamKey:
    key: StreamKey
    stream_key: str
    server_url: str
    publish_url: str
    replaced_previous: bool


@dataclass(frozen=True, slots=True)
class RtmpCall:
    """One of nginx-rtmp's notifications (form fields of its POST)."""

    call: str
    app: str
    name: str
    client_id: str
    address: str
    key: str | None = None
    timestamp_ms: int | None = None
    path: str | None = None

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> RtmpCall:
        timestamp = form.get("timestamp", "")
        return cls(
            call=form.get("call", ""),
            app=form.get("app", ""),
            name=form.get("name", "")[:64],
            client_id=form.get("clientid", "")[:32],
            address=form.get("addr", "")[:64],
            key=form.get("key") or None,
            timestamp_ms=int(timestamp) if timestamp.isdigit() else None,
            path=form.get("path") or None,
        )


class Media:
    """The media context's service; one per process, built with its configuration."""

    def __init__(
        self,
        config: MediaConfig,
        *,
        live_sessions: LiveSessions,
        storage: LocalMediaStorage,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.live_sessions = live_sessions
        self.storage = storage
        self.clock = clock
        self._wake_listeners: list[Callable[[], None]] = []

    # -- background work ---------------------------------------------------------------------

    def on_wake(self, listener: Callable[[], None]) -> None:
        """`listener` is called when new background work was committed (the jobs runner)."""
        self._wake_listeners.append(listener)

    def wake(self) -> None:
        for listener in list(self._wake_listeners):
            listener()

    def _wake_after_commit(self, session: AsyncSession) -> None:
        async def wake() -> None:
            self.wake()

        after_commit(session, wake)

    # -- stream keys -------------------------------------------------------------------------

    async def _permission(
        self, session: AsyncSession, live_session_id: uuid.UUID
    ) -> PublishPermission:
        permission = await self.live_sessions.may_publish(session, live_session_id)
        if permission is None:
            raise LiveSessionNotFound("No such live session.")
        return permission

    async def issue_stream_key(
        self, session: AsyncSession, live_session_id: uuid.UUID, *, actor_id: uuid.UUID
    ) -> IssuedStreamKey:
        """A new secret stream key for the session's host; any earlier key stops working."""
        permission = await self._permission(session, live_session_id)
        if permission.host_id != actor_id:
            raise NotSessionHost("Only the session's host gets its stream key.")
        if permission.state == "ended":
            raise SessionEnded("This live session has ended; it takes no more video.")
        now = self.clock()
        replaced = await repo.revoke_stream_keys(session, live_session_id, now) > 0
        secret = STREAM_KEY_PREFIX + secrets.token_urlsafe(24)
        key = StreamKey(
            live_session_id=live_session_id,
            key_hash=hash_secret(secret),
            hint=secret[-4:],
            created_by=actor_id,
            created_at=now,
        )
        session.add(key)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError as exc:  # a concurrent rotation won
            raise StreamKeyConflict("The key was rotated at the same time; try again.") from exc
        name = stream_name(live_session_id)
        stream_key = f"{name}?key={secret}"
        return IssuedStreamKey(
            key=key,
            stream_key=stream_key,
            server_url=self.config.public_rtmp_url,
            publish_url=f"{self.config.public_rtmp_url}/{stream_key}",
            replaced_previous=replaced,
        )

    async def current_stream_key(
        self, session: AsyncSession, live_session_id: uuid.UUID, *, actor_id: uuid.UUID
    ) -> StreamKey | None:
        permission = await self._permission(session, live_session_id)
        if permission.host_id != actor_id:
            raise NotSessionHost("Only the session's host sees its stream key.")
        return await repo.get_active_stream_key(session, live_session_id)

    # -- nginx callbacks ---------------------------------------------------------------------

    def check_callback(self, address: str, secret: str | None) -> None:
        """Only nginx calls these: from an allowed address, with the secret in its config."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        if ip is None or not any(ip in net for net in self.config.callback_networks):
            raise CallbackForbidden("Media callbacks are taken from the media server only.")
        if secret is None or not secrets.compare_digest(secret, self.config.callback_secret):
            raise CallbackForbidden("The media callback secret is missing or wrong.")

    async def on_publish(self, session: AsyncSession, call: RtmpCall) -> IngestConnection:
        """Let a publisher in (the caller answers 2xx) or raise `PublishRefused` (nginx drops
        the publisher); nothing is stored for a refused publisher."""
        try:
            return await self._accept_publisher(session, call)
        except PublishRefused as exc:
            log.info(
                "publisher refused",
                extra={"stream": call.name, "addr": call.address, "code": exc.code},
            )
            raise

    async def _accept_publisher(self, session: AsyncSession, call: RtmpCall) -> IngestConnection:
        if call.app != RTMP_APP:
            raise PublishRefused(f"Publish to the `{RTMP_APP}` application.", code="unknown_app")
        if not call.key:
            raise PublishRefused(
                f"The stream key is missing: publish to {self.config.public_rtmp_url}/"
                "<session id>?key=<secret> (the whole stream key from liveloop).",
                code="stream_key_missing",
            )
        key = await repo.get_stream_key_by_hash(session, hash_secret(call.key))
        if key is None:
            raise PublishRefused("The stream key is not valid.", code="stream_key_invalid")
        if key.revoked_at is not None:
            raise PublishRefused(
                "This stream key was replaced by a newer one; copy the current key from liveloop.",
                code="stream_key_rotated",
            )
        if call.name != stream_name(key.live_session_id):
            raise PublishRefused(
                "This stream key belongs to another live session.", code="stream_key_mismatch"
            )
        permission = await self.live_sessions.may_publish(session, key.live_session_id)
        if permission is None:
            raise PublishRefused("The live session does not exist.", code="live_session_not_found")
        if permission.host_banned:
            raise PublishRefused("The host may not stream.", code="host_banned")
        if permission.state == "ended":
            raise PublishRefused(
                "The live session has ended; create a new one to go live again.",
                code="live_session_ended",
            )
        if key.created_by != permission.host_id:
            raise PublishRefused(
                "The session has another host now; the new host needs a new key.",
                code="stream_key_host_changed",
            )
        now = self.clock()
        for other in await repo.live_connections_of_stream(session, call.name):
            if other.last_seen_at > now - self.config.stale_after:
                raise PublishRefused(
                    "Someone is already publishing to this live session.",
                    code="already_publishing",
                )
            # nginx stopped reporting it (nginx restarted): it is gone, not a second publisher
            other.status = ConnectionStatus.stopped
            other.stopped_at = other.last_seen_at
            other.stop_reason = "lost"
        await session.flush()  # the lost ones are stopped before the new one is added
        resumed = False
        for pending in await repo.pending_ends_of_session(session, key.live_session_id):
            pending.end_state = EndState.resumed
            resumed = True
        connection = IngestConnection(
            live_session_id=key.live_session_id,
            stream_key_id=key.id,
            stream_name=call.name,
            client_id=call.client_id,
            address=call.address,
            status=ConnectionStatus.live,
            started_at=now,
            last_seen_at=now,
        )
        session.add(connection)
        if await repo.get_recording_of_session(session, key.live_session_id) is None:
            session.add(Recording(live_session_id=key.live_session_id))
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError as exc:  # another publisher was let in at the same moment
            raise PublishRefused(
                "Someone is already publishing to this live session.", code="already_publishing"
            ) from exc
        await self.live_sessions.mark_live(session, key.live_session_id, started_at=now)
        outbox.record(
            session,
            events.STREAM_STARTED,
            aggregate_type="live_session",
            aggregate_id=key.live_session_id,
            payload={
                "live_session_id": key.live_session_id,
                "connection_id": connection.id,
                "resumed": resumed,
                "started_at": now,
            },
        )
        log.info("publisher accepted", extra={"stream": call.name, "resumed": resumed})
        return connection

    async def on_update(self, session: AsyncSession, call: RtmpCall) -> None:
        """nginx's periodic report on a publisher. Refusing drops the publisher: a rotated key,
        an ended session or a banned host stop the video within one update interval."""
        if call.call != "update_publish":
            return  # players: only the ladder's ffmpeg, which nginx lets play from localhost
        connection = await repo.get_connection_of_client(session, call.client_id, call.name)
        if connection is None or connection.status is not ConnectionStatus.live:
            raise PublishRefused("This publisher is not known.", code="publisher_unknown")
        now = self.clock()
        connection.last_seen_at = now
        if call.timestamp_ms is not None:
            anchor = _ms(now) - call.timestamp_ms
            if connection.clock_anchor_ms is None or anchor < connection.clock_anchor_ms:
                connection.clock_anchor_ms = anchor
        key = await session.get(StreamKey, connection.stream_key_id)
        if key is None or key.revoked_at is not None:
            raise PublishRefused("The stream key was replaced.", code="stream_key_rotated")
        permission = await self.live_sessions.may_publish(session, connection.live_session_id)
        if permission is None or permission.state == "ended":
            raise PublishRefused("The live session has ended.", code="live_session_ended")
        if permission.host_banned:
            raise PublishRefused("The host may not stream.", code="host_banned")
        await session.flush()

    async def on_publish_done(self, session: AsyncSession, call: RtmpCall) -> None:
        """The publisher went away: the session ends after the grace period unless the host
        reconnects first."""
        connection = await repo.get_connection_of_client(session, call.client_id, call.name)
        if connection is None or connection.status is not ConnectionStatus.live:
            return
        now = self.clock()
        connection.status = ConnectionStatus.stopped
        connection.stopped_at = now
        connection.stop_reason = "publisher_stopped"
        permission = await self.live_sessions.may_publish(session, connection.live_session_id)
        if permission is None or permission.state == "ended":
            connection.end_state = EndState.none
            await self._recording_ready_to_build(session, connection.live_session_id, now)
            name = connection.stream_name

            async def remove_playlists() -> None:
                remove_stream_files(self.config, name)

            after_commit(session, remove_playlists)
        else:
            connection.end_state = EndState.pending
            connection.end_due_at = now + self.config.grace
            await self.live_sessions.mark_dropped(
                session, connection.live_session_id, dropped_at=now
            )
        await session.flush()
        outbox.record(
            session,
            events.STREAM_DROPPED,
            aggregate_type="live_session",
            aggregate_id=connection.live_session_id,
            payload={
                "live_session_id": connection.live_session_id,
                "connection_id": connection.id,
                "ends_at": connection.end_due_at,
            },
        )
        self._wake_after_commit(session)

    async def on_record_done(self, session: AsyncSession, call: RtmpCall) -> None:
        connection = await repo.get_connection_of_client(session, call.client_id, call.name)
        if connection is None or call.path is None:
            return
        path = Path(call.path)
        if not path.is_relative_to(self.config.recordings_dir):
            log.warning("recording outside the recordings directory", extra={"path": call.path})
            return
        connection.record_path = str(path)
        await session.flush()
        self._wake_after_commit(session)

    async def end_due_sessions(self, session: AsyncSession, *, now: datetime) -> list[uuid.UUID]:
        """End the sessions whose publisher has not come back within the grace period."""
        ended: list[uuid.UUID] = []
        for connection in await repo.due_ends(session, now):
            live = [
                c
                for c in await repo.live_connections_of_stream(session, connection.stream_name)
                if c.last_seen_at > now - self.config.stale_after
            ]
            if live:
                connection.end_state = EndState.resumed
                continue
            if not await repo.claim_end(session, connection.id):
                continue
            ended_at = connection.stopped_at or now
            await self.live_sessions.mark_ended(
                session, connection.live_session_id, ended_at=ended_at, reason="stream_stopped"
            )
            await self._recording_ready_to_build(session, connection.live_session_id, now)
            outbox.record(
                session,
                events.STREAM_ENDED,
                aggregate_type="live_session",
                aggregate_id=connection.live_session_id,
                payload={"live_session_id": connection.live_session_id, "ended_at": ended_at},
            )
            ended.append(connection.live_session_id)
        await session.flush()
        return ended

    async def _recording_ready_to_build(
        self, session: AsyncSession, live_session_id: uuid.UUID, now: datetime
    ) -> None:
        recording = await repo.get_recording_of_session(session, live_session_id)
        if recording is not None and recording.status is RecordingStatus.recording:
            recording.status = RecordingStatus.processing
            recording.next_attempt_at = now

    async def next_due_at(self, session: AsyncSession) -> datetime | None:
        """When timed work (a grace period's end, a replay build's retry) is next due."""
        times = [
            t
            for t in (
                await repo.next_end_due_at(session),
                await repo.next_recording_due_at(session),
            )
            if t is not None
        ]
        return min(times) if times else None

    # -- playback ----------------------------------------------------------------------------

    def _playlist_path(self, live_session_id: uuid.UUID, rendition: str) -> tuple[Path, str]:
        """Where nginx writes a rendition's playlist, and the URL of its directory."""
        name = stream_name(live_session_id)
        if rendition == "source":
            return (
                self.config.source_hls_dir / name / "index.m3u8",
                f"{self.config.public_hls_url}/src/{name}",
            )
        if rendition not in RENDITIONS:
            raise StreamOffline("No such rendition.")
        directory = f"{name}_{rendition}"
        return (
            self.config.ladder_hls_dir / directory / "index.m3u8",
            f"{self.config.public_hls_url}/{LADDER_APP}/{directory}",
        )

    def _read_playlist(self, live_session_id: uuid.UUID, rendition: str) -> str:
        path, _ = self._playlist_path(live_session_id, rendition)
        try:
            return path.read_text()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise StreamOffline("This stream is not on air.") from exc

    def playlist(self, live_session_id: uuid.UUID, rendition: str) -> str:
        """A rendition's live playlist with the program date-time of every segment."""
        text = self._read_playlist(live_session_id, rendition)
        _, base = self._playlist_path(live_session_id, rendition)
        if rendition == "source":
            return hls.with_program_date_time(text, segment_base_url=base)
        # Lower renditions reach nginx ~0.1 s after the source (ffmpeg's transcode): their
        # segments start at the source's keyframes, so they take the source's dates.
        try:
            source = hls.parse(self._read_playlist(live_session_id, "source"))
        except StreamOffline:
            source = hls.MediaPlaylist()
        return hls.with_program_date_time(text, segment_base_url=base, reference=source)

    def _rendition_url(self, live_session_id: uuid.UUID, rendition: str) -> str:
        base = f"{self.config.public_base_url}/api/v1/live-sessions/{live_session_id}"
        return f"{base}/hls/{rendition}.m3u8"

    def _variants(self, live_session_id: uuid.UUID) -> list[hls.Variant]:
        variants = []
        for name in ("source", *RENDITIONS):
            path, _ = self._playlist_path(live_session_id, name)
            try:
                playlist = hls.parse(path.read_text())
            except OSError:
                continue
            if not playlist.segments:
                continue
            rendition = RENDITIONS.get(name)
            default = (
                (rendition.video_kbps + rendition.audio_kbps) * 1000 if rendition else 2_500_000
            )
            variants.append(
                hls.Variant(
                    name=name,
                    uri=f"{name}.m3u8",
                    bandwidth=hls.measured_bandwidth(path.parent, playlist, default),
                    height=rendition.height if rendition else None,
                )
            )
        # The source first: players that ignore BANDWIDTH start with the first variant.
        return variants

    def master_playlist(self, live_session_id: uuid.UUID) -> str:
        variants = self._variants(live_session_id)
        if not variants:
            raise StreamOffline("This stream is not on air.")
        return hls.master(variants)

    async def playback(self, session: AsyncSession, live_session_id: uuid.UUID) -> PlaybackOut:
        permission = await self._permission(session, live_session_id)
        now = self.clock()
        name = stream_name(live_session_id)
        live = any(
            c.last_seen_at > now - self.config.stale_after
            for c in await repo.live_connections_of_stream(session, name)
        )
        reconnecting = not live and bool(
            await repo.pending_ends_of_session(session, live_session_id)
        )
        variants = self._variants(live_session_id) if live or reconnecting else []
        latency = self._latency(live_session_id, now) if variants else None
        return PlaybackOut(
            live_session_id=live_session_id,
            state=permission.state,
            live=live,
            hls_url=(
                f"{self.config.public_base_url}/api/v1/live-sessions/{live_session_id}"
                "/hls/master.m3u8"
                if variants
                else None
            ),
            renditions=[
                RenditionOut(
                    name=v.name,
                    url=self._rendition_url(live_session_id, v.name),
                    bandwidth=v.bandwidth,
                    height=v.height,
                )
                for v in variants
            ],
            program_date_time=True,
            reconnecting=reconnecting,
            latency=latency,
        )

    def _latency(self, live_session_id: uuid.UUID, now: datetime) -> LatencyOut | None:
        try:
            playlist = hls.parse(self._read_playlist(live_session_id, "source"))
        except StreamOffline:
            return None
        newest = playlist.newest
        if newest is None or newest.start_ms is None or newest.end_ms is None:
            return None
        lag = max(0, _ms(now) - newest.end_ms)
        return LatencyOut(
            newest_segment_at=_from_ms(newest.start_ms),
            segment_seconds=playlist.target_duration,
            ingest_lag_ms=lag,
            expected_viewer_delay_ms=lag + HLS_LIVE_EDGE_SEGMENTS * playlist.target_duration * 1000,
        )

    # -- replay ------------------------------------------------------------------------------

    async def replay(self, session: AsyncSession, live_session_id: uuid.UUID) -> ReplayOut:
        await self._permission(session, live_session_id)
        recording = await repo.get_recording_of_session(session, live_session_id)
        if recording is None:
            raise ReplayNotFound("This session was not recorded.")
        pins: list[ReplayPinOut] = []
        ready = recording.status is RecordingStatus.ready and recording.storage_key
        if ready:
            parts = [Part.from_json(p) for p in recording.parts]
            for pin in await self.live_sessions.pins_for_replay(session, live_session_id):
                until = offset_in_replay(parts, _ms(pin.unpinned_at)) if pin.unpinned_at else None
                pins.append(
                    ReplayPinOut(
                        pin_id=pin.pin_id,
                        product_id=pin.product_id,
                        offset_ms=offset_in_replay(parts, _ms(pin.pinned_at)),
                        until_offset_ms=until,
                        media_time_ms=pin.media_time_ms,
                        pinned_at=pin.pinned_at,
                        unpinned_at=pin.unpinned_at,
                        details=dict(pin.details),
                    )
                )
        return ReplayOut(
            live_session_id=live_session_id,
            status=recording.status.value,
            url=self.storage.url(recording.storage_key)
            if ready and recording.storage_key
            else None,
            content_type="video/mp4" if ready else None,
            started_at=recording.started_at,
            duration_ms=recording.duration_ms,
            pins=pins,
        )

    # -- uploaded videos ---------------------------------------------------------------------

    def incoming_path(self, video_id: uuid.UUID) -> Path:
        return self.config.work_dir / "incoming" / str(video_id)

    async def accept_upload(
        self,
        session: AsyncSession,
        *,
        owner_id: uuid.UUID,
        filename: str,
        path: Path,
        size: int,
        container: str,
        probe: Probe,
    ) -> VideoAsset:
        """Keep a checked upload for transcoding: the row, and the file out of the temp area."""
        video = VideoAsset(
            owner_id=owner_id,
            original_filename=filename[:255] or "video",
            container=container,
            size_bytes=size,
            duration_ms=round(probe.duration_s * 1000),
            width=probe.width,
            height=probe.height,
            video_codec=probe.video_codec[:30],
            audio_codec=probe.audio_codec[:30] if probe.audio_codec else None,
        )
        session.add(video)
        await session.flush()
        target = self.incoming_path(video.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        outbox.record(
            session,
            events.VIDEO_UPLOADED,
            aggregate_type="video",
            aggregate_id=video.id,
            payload={"video_id": video.id, "owner_id": owner_id},
            actor_id=owner_id,
        )
        self._wake_after_commit(session)
        return video

    async def video(
        self, session: AsyncSession, video_id: uuid.UUID, *, owner_id: uuid.UUID | None
    ) -> VideoAsset:
        """An uploaded video; with `owner_id`, only if it is theirs (else it does not exist)."""
        video = await repo.get_video(session, video_id)
        if video is None or (owner_id is not None and video.owner_id != owner_id):
            raise VideoNotFound("No such video.")
        return video

    def video_out(self, video: VideoAsset) -> VideoOut:
        return VideoOut(
            id=video.id,
            owner_id=video.owner_id,
            original_filename=video.original_filename,
            container=video.container,
            size_bytes=video.size_bytes,
            duration_ms=video.duration_ms,
            width=video.width,
            height=video.height,
            status=video.status.value,
            progress=video.progress,
            renditions=[
                VideoRenditionOut(
                    name=r["name"],
                    width=r["width"],
                    height=r["height"],
                    url=self.storage.url(r["key"]),
                    size_bytes=r["size_bytes"],
                )
                for r in video.renditions
            ],
            poster_url=self.storage.url(video.poster_key) if video.poster_key else None,
            error=video.error,
            created_at=video.created_at,
            ready_at=video.ready_at,
        )
