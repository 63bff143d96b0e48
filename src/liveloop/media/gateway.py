"""What media needs from the live context, as a Protocol: the live context implements it and the
container passes it in, so media never touches live's tables.

Media times: liveloop stamps a pin with the wall clock at which it was made (`pinned_at`), on
the same clock as the `#EXT-X-PROGRAM-DATE-TIME` of the playlists (nginx names each segment by
the wall-clock millisecond its first frame arrived). A player reveals the pin when its playback
date reaches that moment, and a replay maps it to an offset in the recording.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

SessionState = Literal["scheduled", "live", "ended"]


@dataclass(frozen=True, slots=True)
class PublishPermission:
    """The facts about a live session that decide whether its host may publish video now."""

    live_session_id: uuid.UUID
    host_id: uuid.UUID
    state: SessionState
    """`ended` also stands for any state after which a session never goes live (cancelled)."""
    host_banned: bool = False
    title: str = ""


@dataclass(frozen=True, slots=True)
class ReplayPin:
    """A product pinned during the session, as the replay shows it."""

    pin_id: uuid.UUID
    product_id: uuid.UUID
    pinned_at: datetime
    unpinned_at: datetime | None = None
    media_time_ms: int | None = None
    """Milliseconds since the session went live, as the live room's events carry it."""
    details: Mapping[str, Any] = field(default_factory=dict)


class LiveSessions(Protocol):
    """The live context, as media sees it. Each call joins the caller's transaction."""

    async def may_publish(
        self, session: AsyncSession, live_session_id: uuid.UUID
    ) -> PublishPermission | None:
        """The session's host and state; None when there is no such session."""
        ...

    async def mark_live(
        self, session: AsyncSession, live_session_id: uuid.UUID, *, started_at: datetime
    ) -> None:
        """Video arrives: the session goes live, or (reconnect in the grace period) stays live
        and is no longer marked dropped. Idempotent."""
        ...

    async def mark_dropped(
        self, session: AsyncSession, live_session_id: uuid.UUID, *, dropped_at: datetime
    ) -> None:
        """The publisher went away; the session stays live until `mark_ended`, unless video
        comes back first (then `mark_live` is called again)."""
        ...

    async def mark_ended(
        self,
        session: AsyncSession,
        live_session_id: uuid.UUID,
        *,
        ended_at: datetime,
        reason: str,
    ) -> None:
        """No video came back within the grace period: the session ends. Idempotent: a session
        that has already ended (for example by its host) is left as it is."""
        ...

    async def pins_for_replay(
        self, session: AsyncSession, live_session_id: uuid.UUID
    ) -> list[ReplayPin]:
        """Every pin of the session, in the order they were made."""
        ...
