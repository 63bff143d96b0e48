"""Notifications: the in-app feed, and telling a creator's followers (feed and email) when the
creator schedules or starts a live session."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.service import Accounts
from liveloop.creators import repository as repo
from liveloop.creators.errors import NotificationNotFound
from liveloop.creators.models import Notification
from liveloop.creators.ports import Email, EmailSender
from liveloop.kit.db import new_id, utcnow
from liveloop.kit.outbox import DomainEvent
from liveloop.live import events as live_events
from liveloop.live.service import Live

BATCH = 500
"""Followers notified per INSERT: a popular creator's fan-out stays within parameter limits."""

LIVE_SCHEDULED = "live_scheduled"
LIVE_STARTED = "live_started"


def feed(user_id: uuid.UUID, *, unread_only: bool = False) -> Select[Notification]:
    return repo.notifications_stmt(user_id, unread_only=unread_only)


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    return await repo.count_unread(session, user_id)


async def mark_read(
    session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification:
    notification = await repo.get_notification_of_user(session, user_id, notification_id)
    if notification is None:
        raise NotificationNotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = utcnow()
        await session.flush()
    return notification


async def mark_all_read(session: AsyncSession, user_id: uuid.UUID) -> int:
    return await repo.mark_all_read(session, user_id, utcnow())


async def notify(
    session: AsyncSession,
    accounts: Accounts,
    sender: EmailSender,
    *,
    user_ids: list[uuid.UUID],
    kind: str,
    title: str,
    body: str,
    data: dict[str, Any],
    dedupe_key: str,
    link: str,
) -> int:
    """Put one entry in each user's feed and email them; users who already have an entry with
    this `dedupe_key` get neither again. How many were notified."""
    notified = 0
    for start in range(0, len(user_ids), BATCH):
        batch = user_ids[start : start + BATCH]
        done = await repo.existing_notification_users(session, dedupe_key, batch)
        fresh = [u for u in batch if u not in done]
        if not fresh:
            continue
        now = utcnow()
        await repo.insert_notifications(
            session,
            [
                {
                    "id": new_id(),
                    "user_id": user_id,
                    "kind": kind,
                    "title": title,
                    "body": body,
                    "data": data,
                    "dedupe_key": dedupe_key,
                    "created_at": now,
                }
                for user_id in fresh
            ],
        )
        users = await accounts.get_users(session, fresh)
        for user_id in fresh:
            user = users.get(user_id)
            if user is None or user.disabled_at is not None:
                continue
            await sender.send(
                Email(
                    to=user.email,
                    subject=title,
                    text=f"Hello {user.display_name},\n\n{body}\n\n{link}\n",
                    key=f"{dedupe_key}:{user_id}",
                )
            )
        notified += len(fresh)
    return notified


async def on_live_session(
    session: AsyncSession,
    event: DomainEvent,
    *,
    accounts: Accounts,
    live: Live,
    sender: EmailSender,
    public_base_url: str,
) -> int:
    """`live.session_scheduled` / `live.session_started`: tell the host creator's followers."""
    host = await repo.get_creator_of_user(session, uuid.UUID(str(event.payload["host_user_id"])))
    if host is None:
        return 0  # a shop's staff hosting: shops' followers are not creators' followers
    session_id = uuid.UUID(str(event.payload["session_id"]))
    stream = await live.get(session, session_id)
    followers = await repo.follower_ids(session, host.id)
    if event.type == live_events.SESSION_STARTED:
        kind = LIVE_STARTED
        title = f"{host.display_name} is live now: {stream.title}"
        body = f"@{host.handle} just went live. Join in and shop along."
    else:
        kind = LIVE_SCHEDULED
        when = stream.scheduled_start.strftime("%a %d %b %Y, %H:%M UTC")
        title = f"{host.display_name} scheduled a live: {stream.title}"
        body = f"@{host.handle} goes live on {when}."
    return await notify(
        session,
        accounts,
        sender,
        user_ids=followers,
        kind=kind,
        title=title,
        body=body,
        data={
            "live_session_id": str(session_id),
            "creator_id": str(host.id),
            "creator_handle": host.handle,
            "scheduled_start": stream.scheduled_start.isoformat(),
        },
        dedupe_key=f"{kind}:{session_id}",
        link=f"{public_base_url.rstrip('/')}/api/v1/live-sessions/{session_id}",
    )
