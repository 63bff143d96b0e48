"""Followers hear when their creator schedules or starts a live session: in the in-app feed and
by email (the local outbox sender writes `.eml` files)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.bootstrap import Container
from liveloop.creators.notifications import on_live_session
from liveloop.creators.ports import Email, LocalOutboxSender, MemorySender
from liveloop.kit.clock import clock
from liveloop.kit.outbox import DomainEvent
from liveloop.live import events as live_events
from tests.conftest import MakeUser, SignedInUser, assert_problem
from tests.integration.creators.conftest import make_creator, make_shop


async def _schedule(
    client: httpx.AsyncClient, host: SignedInUser, shop_id: uuid.UUID
) -> dict[str, Any]:
    start = (clock.now() + timedelta(days=2)).replace(tzinfo=None, microsecond=0)
    response = await client.post(
        "/api/v1/live-sessions",
        json={
            "title": "Midnight music boxes",
            "partner_shop_ids": [str(shop_id)],
            "markets": ["GB"],
            "start_local": start.isoformat(),
            "end_local": (start + timedelta(hours=2)).isoformat(),
            "time_zone": "UTC",
        },
        headers=host.headers,
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_followers_are_told_when_their_creator_goes_live(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    container: Container,
) -> None:
    sender = MemorySender()
    container.creators.email = sender
    shop = await make_shop(sessionmaker, make_user)
    host = await make_creator(client, make_user, "live_host", display_name="Maya")
    fans = [await make_user(email=f"fan{i}@example.com") for i in range(2)]
    outsider = await make_user()
    for fan in fans:
        await client.post("/api/v1/creators/live_host/follow", headers=fan.headers)

    live = await _schedule(client, host, shop.id)
    await container.dispatcher.drain()
    feed = (await client.get("/api/v1/notifications", headers=fans[0].headers)).json()
    assert [n["kind"] for n in feed["items"]] == ["live_scheduled"]
    first = feed["items"][0]
    assert first["title"] == "Maya scheduled a live: Midnight music boxes"
    assert first["data"]["live_session_id"] == live["id"]
    assert first["data"]["creator_handle"] == "live_host"
    assert (await client.get("/api/v1/notifications", headers=outsider.headers)).json()[
        "items"
    ] == []

    started = await client.post(f"/api/v1/live-sessions/{live['id']}/start", headers=host.headers)
    assert started.status_code == 200, started.text
    await container.dispatcher.drain()
    feed = (await client.get("/api/v1/notifications", headers=fans[1].headers)).json()
    assert [n["title"] for n in feed["items"]] == [
        "Maya is live now: Midnight music boxes",
        "Maya scheduled a live: Midnight music boxes",
    ]
    assert sorted((e.to, e.subject) for e in sender.sent.values()) == [
        ("fan0@example.com", "Maya is live now: Midnight music boxes"),
        ("fan0@example.com", "Maya scheduled a live: Midnight music boxes"),
        ("fan1@example.com", "Maya is live now: Midnight music boxes"),
        ("fan1@example.com", "Maya scheduled a live: Midnight music boxes"),
    ]

    # A second delivery of the same event notifies nobody again.
    async with sessionmaker() as session:
        again = await on_live_session(
            session,
            DomainEvent(
                id=0,
                type=live_events.SESSION_STARTED,
                aggregate_type="live_session",
                aggregate_id=live["id"],
                payload={"session_id": live["id"], "host_user_id": str(host.id)},
                actor_id=None,
                occurred_at=clock.now(),
            ),
            accounts=container.accounts,
            live=container.live,
            sender=sender,
            public_base_url="http://testserver",
        )
    assert again == 0
    assert len(sender.sent) == 4

    unread = await client.get("/api/v1/notifications/unread-count", headers=fans[1].headers)
    assert unread.json() == {"unread": 2}
    newest = feed["items"][0]["id"]
    read = await client.post(f"/api/v1/notifications/{newest}/read", headers=fans[1].headers)
    assert read.json()["read_at"] is not None
    only_unread = (
        await client.get("/api/v1/notifications?unread=true", headers=fans[1].headers)
    ).json()
    assert [n["kind"] for n in only_unread["items"]] == ["live_scheduled"]
    assert_problem(
        await client.post(f"/api/v1/notifications/{newest}/read", headers=fans[0].headers),
        404,
        "notification_not_found",
    )
    await client.post("/api/v1/notifications/read-all", headers=fans[1].headers)
    unread = await client.get("/api/v1/notifications/unread-count", headers=fans[1].headers)
    assert unread.json() == {"unread": 0}


async def test_a_shop_hosted_session_notifies_no_creator_followers(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    container: Container,
) -> None:
    shop = await make_shop(sessionmaker, make_user)
    await make_creator(client, make_user, "bystander")
    fan = await make_user()
    await client.post("/api/v1/creators/bystander/follow", headers=fan.headers)
    start = (clock.now() + timedelta(days=2)).replace(tzinfo=None, microsecond=0)
    response = await client.post(
        "/api/v1/live-sessions",
        json={
            "title": "Shop's own stream",
            "shop_id": str(shop.id),
            "markets": ["GB"],
            "start_local": start.isoformat(),
            "end_local": (start + timedelta(hours=1)).isoformat(),
            "time_zone": "UTC",
        },
        headers=shop.staff.headers,
    )
    assert response.status_code == 201, response.text
    await container.dispatcher.drain()
    assert (await client.get("/api/v1/notifications", headers=fan.headers)).json()["items"] == []


async def test_the_local_outbox_sender_writes_one_eml_per_message(tmp_path: Path) -> None:
    sender = LocalOutboxSender(tmp_path / "outbox")
    email = Email(to="fan@example.com", subject="Maya is live", text="Join in.", key="k1")
    await sender.send(email)
    await sender.send(email)  # a redelivery replaces the file, never duplicates it
    files = sorted((tmp_path / "outbox").iterdir())
    assert [f.suffix for f in files] == [".eml"]
    message = message_from_bytes(files[0].read_bytes())
    assert (message["To"], message["Subject"]) == ("fan@example.com", "Maya is live")
    assert message.get_payload(decode=True) == b"Join in.\n"
