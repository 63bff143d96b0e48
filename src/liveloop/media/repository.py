"""Every query media makes, named by what it is for."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.media.models import (
    ConnectionStatus,
    EndState,
    IngestConnection,
    Recording,
    RecordingStatus,
    StreamKey,
    VideoAsset,
    VideoStatus,
)


async def get_stream_key_by_hash(session: AsyncSession, key_hash: str) -> StreamKey | None:
    return await session.scalar(select(StreamKey).where(StreamKey.key_hash == key_hash))


async def get_active_stream_key(
    session: AsyncSession, live_session_id: uuid.UUID
) -> StreamKey | None:
    return await session.scalar(
        select(StreamKey).where(
            StreamKey.live_session_id == live_session_id, StreamKey.revoked_at.is_(None)
        )
    )


async def revoke_stream_keys(
    session: AsyncSession, live_session_id: uuid.UUID, at: datetime
) -> int:
    result = await session.execute(
        update(StreamKey)
        .where(StreamKey.live_session_id == live_session_id, StreamKey.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def live_connections_of_stream(
    session: AsyncSession, stream_name: str
) -> list[IngestConnection]:
    return list(
        (
            await session.scalars(
                select(IngestConnection).where(
                    IngestConnection.status == ConnectionStatus.live,
                    IngestConnection.stream_name == stream_name,
                )
            )
        ).all()
    )


async def get_connection_of_client(
    session: AsyncSession, client_id: str, stream_name: str
) -> IngestConnection | None:
    """The newest connection nginx knows by this client id and stream name."""
    return await session.scalar(
        select(IngestConnection)
        .where(
            IngestConnection.client_id == client_id,
            IngestConnection.stream_name == stream_name,
        )
        .order_by(IngestConnection.started_at.desc())
        .limit(1)
    )


async def pending_ends_of_session(
    session: AsyncSession, live_session_id: uuid.UUID
) -> list[IngestConnection]:
    return list(
        (
            await session.scalars(
                select(IngestConnection).where(
                    IngestConnection.live_session_id == live_session_id,
                    IngestConnection.end_state == EndState.pending,
                )
            )
        ).all()
    )


async def due_ends(session: AsyncSession, now: datetime) -> list[IngestConnection]:
    return list(
        (
            await session.scalars(
                select(IngestConnection)
                .where(
                    IngestConnection.end_state == EndState.pending,
                    IngestConnection.end_due_at <= now,
                )
                .order_by(IngestConnection.end_due_at)
            )
        ).all()
    )


async def next_end_due_at(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.min(IngestConnection.end_due_at)).where(
            IngestConnection.end_state == EndState.pending
        )
    )


async def claim_end(session: AsyncSession, connection_id: uuid.UUID) -> bool:
    """Take the ending of a session for this process (several may run the jobs)."""
    result = await session.execute(
        update(IngestConnection)
        .where(IngestConnection.id == connection_id, IngestConnection.end_state == EndState.pending)
        .values(end_state=EndState.ended)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def connections_of_session(
    session: AsyncSession, live_session_id: uuid.UUID
) -> list[IngestConnection]:
    return list(
        (
            await session.scalars(
                select(IngestConnection)
                .where(IngestConnection.live_session_id == live_session_id)
                .order_by(IngestConnection.started_at)
            )
        ).all()
    )


async def get_recording_of_session(
    session: AsyncSession, live_session_id: uuid.UUID
) -> Recording | None:
    return await session.scalar(
        select(Recording).where(Recording.live_session_id == live_session_id)
    )


async def due_recordings(session: AsyncSession, now: datetime, limit: int = 10) -> list[Recording]:
    return list(
        (
            await session.scalars(
                select(Recording)
                .where(
                    Recording.status == RecordingStatus.processing,
                    (Recording.next_attempt_at.is_(None)) | (Recording.next_attempt_at <= now),
                )
                .order_by(Recording.updated_at)
                .limit(limit)
            )
        ).all()
    )


async def next_recording_due_at(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.min(Recording.next_attempt_at)).where(
            Recording.status == RecordingStatus.processing
        )
    )


async def claim_recording(
    session: AsyncSession, recording_id: uuid.UUID, now: datetime, lease_until: datetime
) -> bool:
    result = await session.execute(
        update(Recording)
        .where(
            Recording.id == recording_id,
            Recording.status == RecordingStatus.processing,
            (Recording.next_attempt_at.is_(None)) | (Recording.next_attempt_at <= now),
        )
        .values(next_attempt_at=lease_until)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def get_video(session: AsyncSession, video_id: uuid.UUID) -> VideoAsset | None:
    return await session.get(VideoAsset, video_id)


async def videos_waiting(session: AsyncSession, limit: int = 10) -> list[uuid.UUID]:
    return list(
        (
            await session.scalars(
                select(VideoAsset.id)
                .where(VideoAsset.status == VideoStatus.uploaded)
                .order_by(VideoAsset.created_at)
                .limit(limit)
            )
        ).all()
    )


async def claim_video(session: AsyncSession, video_id: uuid.UUID, now: datetime) -> bool:
    result = await session.execute(
        update(VideoAsset)
        .where(VideoAsset.id == video_id, VideoAsset.status == VideoStatus.uploaded)
        .values(
            status=VideoStatus.transcoding,
            claimed_at=now,
            attempts=VideoAsset.attempts + 1,
            progress=0,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def abandoned_videos(session: AsyncSession, before: datetime) -> list[VideoAsset]:
    """Transcodes whose worker stopped reporting progress (it died with its process)."""
    return list(
        (
            await session.scalars(
                select(VideoAsset).where(
                    VideoAsset.status == VideoStatus.transcoding, VideoAsset.claimed_at < before
                )
            )
        ).all()
    )
