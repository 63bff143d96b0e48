"""The room channel over real sockets: uvicorn in this process, the in-memory hub, and the
`websockets` client; Server-Sent Events through httpx."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from liveloop.kit.realtime import MemoryBackend, RealtimeConfig, RoomHub
from tests.integration.kit.realtime_app import create_app

NOW = datetime(2026, 11, 20, 21, 3, 4, 512_000, tzinfo=UTC)
WAIT = 5.0  # a safety net only: every wait ends as soon as the awaited message arrives


@asynccontextmanager
async def running(
    hub: RoomHub, sessionmaker: async_sessionmaker[AsyncSession] | None = None
) -> AsyncIterator[int]:
    """Serve the test app on a socket that is listening before uvicorn starts, so clients can
    connect at once (their connection waits in the backlog) without polling for readiness."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(
        create_app(hub, sessionmaker=sessionmaker),
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()


def make_hub(**config: Any) -> RoomHub:
    settings = RealtimeConfig(**config)
    return RoomHub(MemoryBackend(settings), settings, now=lambda: NOW)


@pytest.fixture
def room() -> str:
    return uuid.uuid4().hex


@asynccontextmanager
async def viewer(port: int, room: str, query: str = "") -> AsyncIterator[ClientConnection]:
    async with connect(f"ws://127.0.0.1:{port}/rooms/{room}/ws{query}", compression=None) as ws:
        yield ws


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    return message


async def publish(port: int, room: str, event_type: str, data: dict[str, Any]) -> int:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        response = await client.post(
            f"/rooms/{room}/publish", json={"type": event_type, "data": data}
        )
    assert response.status_code == 200, response.text
    seq: int = response.json()["seq"]
    return seq


async def test_viewers_get_the_snapshot_then_the_same_events_in_order(room: str) -> None:
    hub = make_hub()
    async with running(hub) as port, viewer(port, room) as a, viewer(port, room) as b:
        for ws in (a, b):
            snapshot = await receive(ws)
            assert snapshot["type"] == "snapshot"
            assert (snapshot["seq"], snapshot["room"]) == (0, room)
            assert snapshot["data"] == {"room": room, "pid": os.getpid()}
        assert await publish(port, room, "pin", {"product": "p-1"}) == 1
        assert await publish(port, room, "price", {"product": "p-1", "amount": 1799}) == 2
        assert await publish(port, room, "flash_sale", {"ends_at": "2026-11-20T21:10:00Z"}) == 3

        texts_a = [await asyncio.wait_for(a.recv(), WAIT) for _ in range(3)]
        texts_b = [await asyncio.wait_for(b.recv(), WAIT) for _ in range(3)]
        assert texts_a == texts_b
        events = [json.loads(t) for t in texts_a]
        assert [(e["seq"], e["type"]) for e in events] == [
            (1, "pin"),
            (2, "price"),
            (3, "flash_sale"),
        ]
        assert events[1]["data"] == {"product": "p-1", "amount": 1799}


async def test_a_reconnecting_viewer_resumes_from_its_last_sequence(room: str) -> None:
    hub = make_hub()
    async with running(hub) as port:
        for i in range(3):
            await publish(port, room, "chat", {"i": i})
        async with viewer(port, room, "?last_seq=1") as ws:
            assert [(await receive(ws))["seq"] for _ in range(2)] == [2, 3]
            await publish(port, room, "chat", {"i": 3})
            assert await receive(ws) == {
                "seq": 4,
                "type": "chat",
                "room": room,
                "at": "2026-11-20T21:03:04.512Z",
                "media_time_ms": None,
                "data": {"i": 3},
            }


async def test_resume_from_the_future_gets_an_error_then_a_snapshot(room: str) -> None:
    hub = make_hub()
    async with running(hub) as port:
        await publish(port, room, "chat", {"i": 0})
        async with viewer(port, room, "?last_seq=50") as ws:
            error = await receive(ws)
            assert (error["type"], error["code"]) == ("error", "resume_from_future")
            assert (error["last_seq"], error["current_seq"]) == (50, 1)
            snapshot = await receive(ws)
            assert (snapshot["type"], snapshot["seq"]) == ("snapshot", 1)


async def test_a_junk_resume_value_gets_an_error_then_a_snapshot(room: str) -> None:
    hub = make_hub()
    async with running(hub) as port, viewer(port, room, "?last_seq=-3") as ws:
        assert await receive(ws) == {
            "type": "error",
            "code": "invalid_resume",
            "detail": "last_seq must be a non-negative integer; here is a fresh snapshot.",
        }
        assert (await receive(ws))["type"] == "snapshot"


async def test_malformed_frames_get_an_error_for_that_client_only(room: str) -> None:
    hub = make_hub()
    async with running(hub) as port, viewer(port, room) as bad, viewer(port, room) as good:
        await receive(bad)
        await receive(good)
        await bad.send("this is not json")
        await bad.send("[1, 2, 3]")
        await bad.send(b"\x00\x01")
        await bad.send('{"type": 7}')
        for _ in range(4):
            error = await receive(bad)
            assert (error["type"], error["code"]) == ("error", "malformed_message")

        await publish(port, room, "pin", {"product": "p-1"})
        assert (await receive(good))["seq"] == 1  # nothing else reached the other viewer
        assert (await receive(bad))["seq"] == 1  # and the sender is still in the room


async def test_an_oversized_frame_closes_only_that_socket_with_1009(room: str) -> None:
    hub = make_hub(max_frame_bytes=1024)
    async with running(hub) as port, viewer(port, room) as big, viewer(port, room) as other:
        await receive(big)
        await receive(other)
        await big.send(json.dumps({"type": "chat", "text": "x" * 2000}))

        error = await receive(big)
        assert (error["code"], error["limit"]) == ("message_too_large", 1024)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(big.recv(), WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009

        await publish(port, room, "pin", {"product": "p-1"})
        assert (await receive(other))["seq"] == 1
        assert hub.local_viewers(room) == 1


async def test_client_messages_reach_the_room_and_their_errors_stay_private(room: str) -> None:
    hub = make_hub()
    async with (
        running(hub) as port,
        viewer(port, room, "?viewer=v-1") as talker,
        viewer(port, room) as listener,
    ):
        await receive(talker)
        await receive(listener)

        await talker.send(json.dumps({"type": "chat", "text": "is it in blue?"}))
        chat = await receive(talker)
        assert (chat["seq"], chat["type"], chat["data"]) == (
            1,
            "chat",
            {"text": "is it in blue?", "by": "v-1"},
        )
        assert await receive(talker) == {"type": "ack", "seq": 1}
        assert (await receive(listener))["data"] == {"text": "is it in blue?", "by": "v-1"}

        await talker.send(json.dumps({"type": "chat"}))
        assert await receive(talker) == {
            "type": "error",
            "code": "invalid_chat",
            "detail": "A chat message needs text.",
        }
        await talker.send(json.dumps({"type": "ping"}))
        assert await receive(talker) == {"type": "pong"}

        await publish(port, room, "pin", {"product": "p-2"})
        assert (await receive(listener))["seq"] == 2  # the error and the pong were not its


async def test_a_full_room_refuses_a_join_with_an_error_and_1013(room: str) -> None:
    hub = make_hub(max_room_connections=1)
    async with running(hub) as port, viewer(port, room) as first, viewer(port, room) as second:
        assert (await receive(first))["type"] == "snapshot"
        assert await receive(second) == {
            "type": "error",
            "code": "room_full",
            "detail": "This room is full; retry shortly.",
        }
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(second.recv(), WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013


async def test_viewer_counts_are_broadcast_to_the_room(room: str) -> None:
    hub = make_hub()
    async with running(hub) as port, viewer(port, room) as a, viewer(port, room) as b:
        await receive(a)
        await receive(b)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            stats = (await client.post(f"/rooms/{room}/tick")).json()
        assert stats == {"now": 2, "peak": 2, "unique": 0}
        for ws in (a, b):
            event = await receive(ws)
            assert (event["seq"], event["type"], event["data"]) == (1, "viewers", {"now": 2})


async def test_a_viewer_that_stops_reading_is_dropped_while_the_others_get_everything(
    room: str,
) -> None:
    hub = make_hub(send_queue=8)
    payload = {"blob": "x" * 4000}
    async with (
        running(hub) as port,
        viewer(port, room, "?viewer=fast") as fast,
        # max_queue=1: the client library stops reading its socket once one message waits.
        connect(
            f"ws://127.0.0.1:{port}/rooms/{room}/ws?viewer=slow",
            compression=None,
            max_queue=1,
            close_timeout=0.5,
        ) as _slow,
    ):
        await receive(fast)
        slow_sub = next(s for s in hub.subscriptions(room) if s.viewer_id == "slow")
        received: list[int] = []
        everything = asyncio.Event()
        published = 0

        async def read_fast() -> None:
            while True:
                event = await receive(fast)
                received.append(event["seq"])
                if slow_sub.closed_reason is not None and event["seq"] == published:
                    everything.set()

        reader = asyncio.ensure_future(read_fast())
        try:
            while slow_sub.closed_reason is None and published < 20_000:
                published = await hub.publish(room, "chat", payload)
                await asyncio.sleep(0)  # let the fast viewer's socket be read meanwhile
            assert slow_sub.closed_reason == "slow_consumer"
            await asyncio.wait_for(everything.wait(), WAIT)
        finally:
            reader.cancel()
        assert received == list(range(1, published + 1))
        assert [s.viewer_id for s in hub.subscriptions(room)] == ["fast"]


def sse_events(lines: list[str]) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in lines:
        if not line:
            if current:
                events.append(current)
            current = {}
            continue
        field, _, value = line.partition(": ")
        current[field] = value
    return events


class SseReader:
    def __init__(self, response: httpx.Response) -> None:
        self.lines: list[str] = []
        self._lines = response.aiter_lines()

    async def events(self, count: int) -> list[dict[str, str]]:
        """The first `count` events of the stream (a `retry:` block counts as one)."""
        async with asyncio.timeout(WAIT):
            while len(sse_events(self.lines)) < count:
                self.lines.append(await anext(self._lines))
        return sse_events(self.lines)


async def test_server_sent_events_stream_and_resume_with_last_event_id(room: str) -> None:
    hub = make_hub()
    async with (
        running(hub) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=WAIT) as client,
    ):
        async with client.stream("GET", f"/rooms/{room}/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert response.headers["cache-control"] == "no-cache"
            stream = SseReader(response)
            retry, snapshot = await stream.events(2)
            assert retry == {"retry": "2000"}
            assert snapshot["id"] == "0"
            assert json.loads(snapshot["data"])["type"] == "snapshot"
            (sub,) = hub.subscriptions(room)

            await publish(port, room, "pin", {"product": "p-1"})
            await publish(port, room, "unpin", {"product": "p-1"})
            later = await stream.events(4)
            assert [(e["id"], json.loads(e["data"])["type"]) for e in later[2:]] == [
                ("1", "pin"),
                ("2", "unpin"),
            ]
        # Leaving the stream ends the subscription at once (not at the next heartbeat).
        assert await asyncio.wait_for(sub.wait_closed(), WAIT) == "left"
        assert hub.local_viewers(room) == 0

        await publish(port, room, "pin", {"product": "p-2"})
        async with client.stream(
            "GET", f"/rooms/{room}/events", headers={"Last-Event-ID": "1"}
        ) as response:
            events = await SseReader(response).events(3)
            assert [(e["id"], json.loads(e["data"])["seq"]) for e in events[1:]] == [
                ("2", 2),
                ("3", 3),
            ]


async def test_server_sent_events_at_the_cap_answer_503(room: str) -> None:
    hub = make_hub(max_room_connections=1)
    async with (
        running(hub) as port,
        viewer(port, room) as ws,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=WAIT) as client,
    ):
        await receive(ws)
        response = await client.get(f"/rooms/{room}/events")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "5"
        assert response.json()["code"] == "room_full"


async def test_a_join_that_fails_tells_the_client_and_leaves_nothing_behind() -> None:
    hub = make_hub()
    async with running(hub) as port, viewer(port, "broken-room") as ws:
        assert await receive(ws) == {
            "type": "error",
            "code": "unavailable",
            "detail": "The live channel is unavailable; retry shortly.",
        }
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        assert hub.connections == 0


async def test_server_sent_events_stream_even_when_the_request_opened_a_database_session(
    room: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # The unit-of-work middleware holds a response back until its last byte when the request
    # used the database; the stream commits and releases the session first, so it flows.
    hub = make_hub()
    async with (
        running(hub, sessionmaker) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=WAIT) as client,
        client.stream("GET", f"/rooms/{room}/events") as response,
    ):
        stream = SseReader(response)
        _, snapshot = await stream.events(2)
        assert json.loads(snapshot["data"])["type"] == "snapshot"
        await publish(port, room, "pin", {"product": "p-1"})
        assert (await stream.events(3))[2]["id"] == "1"


async def test_a_viewer_removed_by_the_server_gets_the_chosen_close_code(room: str) -> None:
    hub = make_hub()
    async with (
        running(hub) as port,
        viewer(port, room, "?viewer=v-1") as removed,
        viewer(port, room, "?viewer=v-2") as stays,
    ):
        await receive(removed)
        await receive(stays)
        for sub in hub.subscriptions(room):
            if sub.viewer_id == "v-1":
                sub.close("blocked", code=4003)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(removed.recv(), WAIT)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4003, "blocked")
        await publish(port, room, "pin", {"product": "p-1"})
        assert (await receive(stays))["seq"] == 1
