"""Live chat: every message passes the link ban, the banned words, the viewer's rate limit and
the host's slow mode; hosts and moderators remove messages, mute and block viewers."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.kit.db import utcnow
from liveloop.kit.errors import field_error
from liveloop.kit.ratelimit import RateLimiter
from liveloop.live.errors import ChatInvalid, ChatRateLimited, ChatRefused, NotLive
from liveloop.live.models import ChatMessage, LiveSession, RoomSanction, SanctionKind, SessionState
from liveloop.moderation import service as moderation_service

RULES_PATH = Path(__file__).parent / "data" / "chat_rules.json"
HISTORY = 50


@lru_cache
def rules() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    return loaded


@lru_cache
def _banned_pattern() -> re.Pattern[str]:
    words = sorted(rules()["banned_words"], key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


def message_out(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "user_id": str(message.user_id),
        "name": message.display_name,
        "body": message.body,
        "sent_at": message.sent_at.isoformat(),
    }


async def active_sanction(
    session: AsyncSession, session_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> RoomSanction | None:
    return await session.scalar(
        select(RoomSanction)
        .where(
            RoomSanction.session_id == session_id,
            RoomSanction.user_id == user_id,
            RoomSanction.lifted_at.is_(None),
            or_(RoomSanction.until.is_(None), RoomSanction.until > now),
        )
        .order_by(RoomSanction.kind)  # "block" sorts before "mute": the stronger one first
        .limit(1)
    )


async def check_can_write(
    session: AsyncSession,
    live: LiveSession,
    *,
    user_id: uuid.UUID,
    body: str,
    is_runner: bool,
    limiter: RateLimiter,
) -> str:
    """The cleaned message text, or the reason it may not be posted."""
    if live.state is not SessionState.live:
        raise NotLive("Chat is open while the session is live.")
    text = " ".join(body.split())
    if not text:
        raise ChatInvalid(
            "Write something first.", errors=[field_error("body", "empty", code="empty")]
        )
    limit = int(rules()["max_length"])
    if len(text) > limit:
        raise ChatInvalid(
            f"Messages are at most {limit} characters.",
            errors=[field_error("body", f"over {limit} characters", code="too_long")],
        )
    now = utcnow()
    sanction = await active_sanction(session, live.id, user_id, now)
    if sanction is not None:
        verb = "blocked from" if sanction.kind is SanctionKind.block else "muted in"
        raise ChatRefused(f"You are {verb} this room.", code=f"chat_{sanction.kind.value}d")
    moderation_service.ensure_allowed("body", text)
    found = _banned_pattern().search(text)
    if found:
        raise ChatInvalid(
            "That word is not allowed in chat.",
            errors=[field_error("body", f"'{found.group(0)}' is not allowed", code="banned_word")],
        )
    if not is_runner:
        rule = RateLimiter.parse(str(rules()["rate_limit"]))
        if not await limiter.hit(rule, "chat", str(live.id), str(user_id)):
            raise ChatRateLimited(
                "You are sending messages too fast.", headers={"Retry-After": "10"}
            )
        if live.slow_mode_seconds:
            last = await session.scalar(
                select(ChatMessage.sent_at)
                .where(ChatMessage.session_id == live.id, ChatMessage.user_id == user_id)
                .order_by(ChatMessage.sent_at.desc())
                .limit(1)
            )
            if last is not None and now - last < timedelta(seconds=live.slow_mode_seconds):
                wait = live.slow_mode_seconds - int((now - last).total_seconds())
                raise ChatRateLimited(
                    f"Slow mode: wait {wait} s between messages.",
                    headers={"Retry-After": str(max(wait, 1))},
                    code="slow_mode",
                )
    return text


async def recent(session: AsyncSession, session_id: uuid.UUID) -> list[ChatMessage]:
    rows = list(
        (
            await session.scalars(
                select(ChatMessage)
                .where(ChatMessage.session_id == session_id, ChatMessage.removed_at.is_(None))
                .order_by(ChatMessage.sent_at.desc())
                .limit(HISTORY)
            )
        ).all()
    )
    return list(reversed(rows))


async def lift(session: AsyncSession, session_id: uuid.UUID, user_id: uuid.UUID) -> None:
    await session.execute(
        update(RoomSanction)
        .where(
            RoomSanction.session_id == session_id,
            RoomSanction.user_id == user_id,
            RoomSanction.lifted_at.is_(None),
        )
        .values(lifted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
