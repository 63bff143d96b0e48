"""The room channel across processes through Redis: two hubs in this process, then two real
uvicorn processes serving one room."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect

from liveloop.kit.realtime import (
    Message,
    RealtimeConfig,
    RedisBackend,
    RoomHub,
    Subscription,
    ViewerStats,
)
from tests.conftest import ROOT

pytestmark = pytest.mark.redis

NOW = datetime(2026, 11, 20, 21, 3, 4, 512_000, tzinfo=UTC)
WAIT = 5.0  # a safety net only: every wait ends as soon as the awaited thing happens


async def snapshot(room_id: str) -> dict[str, Any]:
    return {"room": room_id}


async def drain(sub: Subscription, until_seq: int) -> list[Message]:
    got: list[Message] = []
    async with asyncio.timeout(WAIT):
        while not got or got[-1].seq != until_seq:
            got.extend(await sub.next_batch())
    return got


@asynccontextmanager
async def hubs(redis: Redis, count: int = 2, **config: Any) -> AsyncIterator[list[RoomHub]]:
    """Hubs with their own backends on one Redis: as many processes would have."""
    settings = RealtimeConfig(**config)
    made = [
        RoomHub(RedisBackend(redis, settings, block_ms=200), settings, now=lambda: NOW)
        for _ in range(count)
    ]
    for hub in made:
        await hub.start(viewers_ticker=False)
    try:
        yield made
    finally:
        for hub in made:
            await hub.close()


@pytest.fixture
async def redis_client(redis: Redis | None) -> Redis:
    assert redis is not None
    return redis


@pytest.fixture
def room() -> str:
    return uuid.uuid4().hex


async def test_an_event_published_on_one_process_reaches_viewers_on_another(
    redis_client: Redis, room: str
) -> None:
    async with hubs(redis_client) as (a, b):
        on_b = await b.join(room, snapshot_provider=snapshot)
        on_a = await a.join(room, snapshot_provider=snapshot)
        assert (on_b.initial[0].seq, on_a.initial[0].seq) == (0, 0)

        assert await a.publish(room, "pin", {"product": "p-1"}, media_time_ms=5_000) == 1
        assert await b.publish(room, "unpin", {"product": "p-1"}) == 2

        got_b = await drain(on_b, 2)
        got_a = await drain(on_a, 2)
        assert [m.text for m in got_b] == [m.text for m in got_a]
        assert json.loads(got_b[0].text) == {
            "seq": 1,
            "type": "pin",
            "room": room,
            "at": "2026-11-20T21:03:04.512Z",
            "media_time_ms": 5000,
            "data": {"product": "p-1"},
        }


async def test_concurrent_publishers_on_two_processes_give_everyone_one_order(
    redis_client: Redis, room: str
) -> None:
    async with hubs(redis_client, replay_size=1024, send_queue=1024) as (a, b):
        subs = [await hub.join(room, snapshot_provider=snapshot) for hub in (a, b, a, b)]

        async def publish_from(hub: RoomHub, name: str) -> list[int]:
            return [await hub.publish(room, "chat", {"from": name, "i": i}) for i in range(50)]

        from_a, from_b = await asyncio.gather(publish_from(a, "a"), publish_from(b, "b"))
        assert sorted(from_a + from_b) == list(range(1, 101))

        streams = [await drain(sub, 100) for sub in subs]
        texts = [[m.text for m in stream] for stream in streams]
        assert all(t == texts[0] for t in texts)
        assert [m.seq for m in streams[0]] == list(range(1, 101))
        # Each publisher's own events keep the order it published them in.
        data = [json.loads(t)["data"] for t in texts[0]]
        assert [d["i"] for d in data if d["from"] == "a"] == list(range(50))
        assert [d["i"] for d in data if d["from"] == "b"] == list(range(50))


async def test_resume_is_served_from_the_shared_buffer(redis_client: Redis, room: str) -> None:
    async with hubs(redis_client, replay_size=4) as (a, b):
        for i in range(6):
            await a.publish(room, "chat", {"i": i})

        within = await b.join(room, snapshot_provider=snapshot, last_seq=2)
        assert [m.seq for m in within.initial] == [3, 4, 5, 6]
        at_current = await b.join(room, snapshot_provider=snapshot, last_seq=6)
        assert at_current.initial == []
        too_old = await b.join(room, snapshot_provider=snapshot, last_seq=1)
        assert [json.loads(m.text)["type"] for m in too_old.initial] == ["snapshot"]
        assert too_old.initial[0].seq == 6
        future = await b.join(room, snapshot_provider=snapshot, last_seq=60)
        assert [json.loads(m.text).get("code", "snapshot") for m in future.initial] == [
            "resume_from_future",
            "snapshot",
        ]

        await a.publish(room, "chat", {"i": 6})
        for sub in (within, at_current, too_old, future):
            assert [m.seq for m in await drain(sub, 7)] == [7]


async def test_a_burst_of_joins_costs_a_couple_of_redis_round_trips(
    redis_url: str | None, room: str
) -> None:
    # A pool of 3 connections: the reader holds one; 300 joins at once must not need more.
    assert redis_url is not None
    small = Redis.from_url(redis_url, max_connections=3)
    try:
        async with hubs(small, count=1) as (hub,):
            subs = await asyncio.gather(
                *(hub.join(room, snapshot_provider=snapshot) for _ in range(300))
            )
            assert {s.initial[0].seq for s in subs} == {0}
            assert hub.local_viewers(room) == 300
            assert await hub.publish(room, "pin", {"product": "p-1"}) == 1
            for sub in subs[:3]:
                assert [m.seq for m in await drain(sub, 1)] == [1]
    finally:
        await small.aclose()


async def test_a_client_ahead_of_this_processs_reader_is_not_sent_back_in_time(
    redis_client: Redis, room: str
) -> None:
    async with hubs(redis_client) as (a, b):
        watcher = await b.join(room, snapshot_provider=snapshot)
        backend = b.backend
        assert isinstance(backend, RedisBackend)
        await backend.close()  # b's reader stops: what a reader that lags behind looks like
        await a.publish(room, "chat", {"i": 0})
        await a.publish(room, "chat", {"i": 1})

        # The client saw seq 2 on process a; b has not delivered it yet, yet it exists.
        resumed = await b.join(room, snapshot_provider=snapshot, last_seq=2)
        assert resumed.initial == []

        await backend.start(b._fanout, b.resync)  # the reader catches up
        await a.publish(room, "chat", {"i": 2})
        assert [m.seq for m in await drain(resumed, 3)] == [3]
        assert [m.seq for m in await drain(watcher, 3)] == [1, 2, 3]


async def test_viewer_counts_are_summed_over_processes_and_broadcast_once(
    redis_client: Redis, room: str
) -> None:
    async with hubs(redis_client) as (a, b):
        watcher = await a.join(room, snapshot_provider=snapshot, viewer_id="v-1")
        await a.join(room, snapshot_provider=snapshot, viewer_id="v-2")
        await b.join(room, snapshot_provider=snapshot, viewer_id="v-2")
        await b.join(room, snapshot_provider=snapshot, viewer_id="v-3")

        await a.tick_viewers()  # wins this interval's broadcast: 2 viewers reported so far
        await b.tick_viewers()  # reports its 2; the interval's broadcast is already done
        assert await a.viewer_stats(room) == ViewerStats(now=4, peak=4, unique=3)
        assert await b.viewer_stats(room) == ViewerStats(now=4, peak=4, unique=3)

        # The next interval (its lock has expired) broadcasts the new total once.
        await redis_client.delete(f"liveloop:rt:{{{room}}}:viewers_tick")
        await b.tick_viewers()
        await a.tick_viewers()

        events = await drain(watcher, 2)
        assert [(m.seq, json.loads(m.text)["data"]) for m in events] == [
            (1, {"now": 2}),
            (2, {"now": 4}),
        ]


async def test_a_hole_in_the_stream_closes_that_rooms_viewers_for_a_resync(
    redis_client: Redis, room: str
) -> None:
    async with hubs(redis_client, count=1) as (hub,):
        sub = await hub.join(room, snapshot_provider=snapshot)
        backend = hub.backend
        assert isinstance(backend, RedisBackend)
        # What the reader sees when it fell behind a capped stream: seq 3 right after 0.
        backend._dispatch(room, [(b"3-0", {b"m": b'{"seq":3}'})])
        assert sub.closed_reason == "resync"
        assert hub.local_viewers(room) == 0


# -- two real server processes -----------------------------------------------------------------


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


def start_server(redis_url: str) -> ServerProcess:
    # The socket listens before uvicorn starts: clients wait in its backlog, no polling needed.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    env = {**os.environ, "LIVELOOP_REDIS_URL": redis_url, "LIVELOOP_TEST_RT_REPLAY": "64"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.integration.kit.realtime_app:app",
            "--fd",
            str(sock.fileno()),
            "--ws",
            "websockets-sansio",
            "--ws-per-message-deflate",
            "false",
            "--log-level",
            "warning",
        ],
        pass_fds=[sock.fileno()],
        cwd=ROOT,
        env=env,
    )
    port = sock.getsockname()[1]
    sock.close()
    return ServerProcess(process, port)


@pytest.fixture(scope="module")
def servers(redis_url: str | None) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    assert redis_url is not None
    pair = (start_server(redis_url), start_server(redis_url))
    try:
        yield pair
    finally:
        for server in pair:
            server.process.terminate()
        for server in pair:
            try:
                server.process.wait(15)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    return message


async def post_event(server: ServerProcess, room: str, i: int, origin: str) -> int:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        response = await client.post(
            f"/rooms/{room}/publish", json={"type": "chat", "data": {"i": i, "origin": origin}}
        )
    assert response.status_code == 200, response.text
    seq: int = response.json()["seq"]
    return seq


async def test_two_server_processes_deliver_every_event_to_both_in_one_order(
    servers: tuple[ServerProcess, ServerProcess], redis: Redis | None, room: str
) -> None:
    a, b = servers
    async with (
        connect(a.url(f"/rooms/{room}/ws"), compression=None, open_timeout=30) as on_a,
        connect(b.url(f"/rooms/{room}/ws"), compression=None, open_timeout=30) as on_b,
    ):
        snapshot_a, snapshot_b = await receive(on_a), await receive(on_b)
        assert (snapshot_a["seq"], snapshot_b["seq"]) == (0, 0)
        assert snapshot_a["data"]["pid"] == a.process.pid
        assert snapshot_b["data"]["pid"] == b.process.pid

        assert await post_event(a, room, 0, "a") == 1
        first_a, first_b = await receive(on_a), await receive(on_b)
        assert first_a == first_b
        assert (first_b["seq"], first_b["data"]) == (1, {"i": 0, "origin": "a"})

        seqs = await asyncio.gather(
            *(
                post_event(server, room, i, name)
                for i in range(1, 21)
                for server, name in ((a, "a"), (b, "b"))
            )
        )
        assert sorted(seqs) == list(range(2, 42))
        texts_a = [await asyncio.wait_for(on_a.recv(), WAIT) for _ in range(40)]
        texts_b = [await asyncio.wait_for(on_b.recv(), WAIT) for _ in range(40)]
        assert texts_a == texts_b
        assert [json.loads(t)["seq"] for t in texts_b] == list(range(2, 42))
        data = [json.loads(t)["data"] for t in texts_b]
        assert sorted((d["origin"], d["i"]) for d in data) == sorted(
            (name, i) for i in range(1, 21) for name in ("a", "b")
        )


async def test_a_chat_sent_on_one_process_reaches_the_other_and_resume_works_across(
    servers: tuple[ServerProcess, ServerProcess], redis: Redis | None, room: str
) -> None:
    a, b = servers
    async with connect(a.url(f"/rooms/{room}/ws"), compression=None, open_timeout=30) as on_a:
        await receive(on_a)
        async with connect(
            b.url(f"/rooms/{room}/ws?viewer=v-9"), compression=None, open_timeout=30
        ) as on_b:
            await receive(on_b)
            await on_b.send(json.dumps({"type": "chat", "text": "sold out already?"}))
            chat = await receive(on_a)
            assert (chat["seq"], chat["data"]) == (1, {"text": "sold out already?", "by": "v-9"})
        # The viewer on B left after seq 1 (it got its own chat); two events happen meanwhile.
        await post_event(a, room, 1, "a")
        await post_event(a, room, 2, "a")
        async with connect(
            b.url(f"/rooms/{room}/ws?last_seq=1"), compression=None, open_timeout=30
        ) as back:
            missed = [await receive(back) for _ in range(2)]
            assert [(m["seq"], m["data"]["i"]) for m in missed] == [(2, 1), (3, 2)]
