"""The live context as the media context sees it (`liveloop.media.gateway.LiveSessions`): video
arriving makes a session live, a drop is noted, the end of the grace period ends it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.live import repository as repo
from liveloop.live.models import SessionState
from liveloop.live.service import Live
from liveloop.media.gateway import PublishPermission, ReplayPin


class LiveSessionsForMedia:
    def __init__(self, live: Live) -> None:
        self._live = live

    async def may_publish(
        self, session: AsyncSession, live_session_id: uuid.UUID
    ) -> PublishPermission | None:
        live = await repo.get_session(session, live_session_id)
        if live is None:
            return None
        state = (
            "ended"
            if live.state in (SessionState.ended, SessionState.cancelled)
            else live.state.value
        )
        return PublishPermission(
            live_session_id=live.id,
            host_id=live.host_user_id,
            state=state,  # type: ignore[arg-type]
            title=live.title,
        )

    async def mark_live(
        self, session: AsyncSession, live_session_id: uuid.UUID, *, started_at: datetime
    ) -> None:
        await self._live.go_live(
            session, live_session_id, actor_id=None, reason="video started", at=started_at
        )

    async def mark_dropped(
        self, session: AsyncSession, live_session_id: uuid.UUID, *, dropped_at: datetime
    ) -> None:
        await self._live.mark_video_dropped(session, live_session_id)

    async def mark_ended(
        self,
        session: AsyncSession,
        live_session_id: uuid.UUID,
        *,
        ended_at: datetime,
        reason: str,
    ) -> None:
        live = await self._live.get(session, live_session_id)
        if live.state is SessionState.live:
            await self._live.end(session, live_session_id, actor_id=None, reason=reason)

    async def pins_for_replay(
        self, session: AsyncSession, live_session_id: uuid.UUID
    ) -> list[ReplayPin]:
        return [
            ReplayPin(
                pin_id=pin.id,
                product_id=pin.product_id,
                pinned_at=pin.pinned_at,
                unpinned_at=pin.unpinned_at,
                media_time_ms=pin.media_time_ms,
                details=pin.details,
            )
            for pin in await self._live.replay_pins(session, live_session_id)
        ]
