"""Media's tables: stream keys, ingest connections, recordings and uploaded short videos."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from liveloop.kit.db import Base, IdMixin, JSONType, TimestampMixin, str_enum, utcnow


class StreamKey(IdMixin, Base):
    """A live session's secret for publishing. Only the SHA-256 of the secret is stored; a
    rotated key keeps its row (revoked) so that using it again is refused with that reason."""

    __tablename__ = "media_stream_keys"

    live_session_id: Mapped[uuid.UUID] = mapped_column(index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))
    """The secret's last characters, so a host can tell which key OBS holds."""
    created_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    __table_args__ = (
        # One usable key per session: two concurrent rotations cannot both win.
        Index(
            "uq_media_stream_keys_active",
            "live_session_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ConnectionStatus(StrEnum):
    live = "live"
    stopped = "stopped"


class EndState(StrEnum):
    """What happens to the session after this connection stopped."""

    pending = "pending"  # the grace period runs
    resumed = "resumed"  # the host reconnected in time: the same session continues
    ended = "ended"  # the grace period ran out: the session was ended
    none = "none"  # nothing to do (the session had already ended)


class IngestConnection(IdMixin, Base):
    """One accepted publisher, from nginx's `on_publish` to its `on_publish_done`."""

    __tablename__ = "media_ingest_connections"

    live_session_id: Mapped[uuid.UUID] = mapped_column(index=True)
    stream_key_id: Mapped[uuid.UUID]
    stream_name: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(32))
    """nginx's connection id, unique while that nginx runs."""
    address: Mapped[str] = mapped_column(String(64))
    status: Mapped[ConnectionStatus] = mapped_column(
        str_enum(ConnectionStatus), default=ConnectionStatus.live
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None]
    stop_reason: Mapped[str | None] = mapped_column(String(100))
    clock_anchor_ms: Mapped[int | None] = mapped_column(BigInteger)
    """Wall-clock epoch ms of stream timestamp 0: the least-delayed `arrival - timestamp` seen in
    nginx's updates, which dates every frame of this connection's recording."""
    record_path: Mapped[str | None] = mapped_column(String(500))
    end_state: Mapped[EndState | None] = mapped_column(str_enum(EndState))
    end_due_at: Mapped[datetime | None]

    __table_args__ = (
        # One publisher per stream, even when two connect at the same instant.
        Index(
            "uq_media_ingest_connections_one_live",
            "stream_name",
            unique=True,
            sqlite_where=text("status = 'live'"),
            postgresql_where=text("status = 'live'"),
        ),
        Index("ix_media_ingest_connections_live", "status", "stream_name"),
        Index("ix_media_ingest_connections_due", "end_state", "end_due_at"),
    )


class RecordingStatus(StrEnum):
    recording = "recording"  # the session is on air; parts are being written by nginx
    processing = "processing"  # the session ended; the replay is being built
    ready = "ready"
    empty = "empty"  # nothing was recorded
    failed = "failed"


class Recording(IdMixin, TimestampMixin, Base):
    """A session's recording: nginx's parts (one per connection) joined into one replay MP4."""

    __tablename__ = "media_recordings"

    live_session_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    status: Mapped[RecordingStatus] = mapped_column(
        str_enum(RecordingStatus), default=RecordingStatus.recording
    )
    storage_key: Mapped[str | None] = mapped_column(String(300))
    started_at: Mapped[datetime | None]
    """Wall clock of the replay's first frame."""
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    """Each part's `started_at` (ISO), `offset_ms` in the replay and `duration_ms`."""
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_media_recordings_status", "status", "next_attempt_at"),)


class VideoStatus(StrEnum):
    uploaded = "uploaded"
    transcoding = "transcoding"
    ready = "ready"
    failed = "failed"


class VideoAsset(IdMixin, TimestampMixin, Base):
    """An uploaded short video and its web-playable renditions."""

    __tablename__ = "media_video_assets"

    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    container: Mapped[str] = mapped_column(String(20))
    """What the content is (sniffed), e.g. `mp4`, `webm`; never taken from the file name."""
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(Integer)
    width: Mapped[int]
    height: Mapped[int]
    video_codec: Mapped[str] = mapped_column(String(30))
    audio_codec: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[VideoStatus] = mapped_column(str_enum(VideoStatus), default=VideoStatus.uploaded)
    progress: Mapped[int] = mapped_column(default=0)
    """Percent of the transcode done, 0-100."""
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    poster_key: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None]
    """When a worker took the transcode; refreshed with progress, so a dead worker's job is
    taken again."""
    ready_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_media_video_assets_status", "status", "claimed_at"),)
