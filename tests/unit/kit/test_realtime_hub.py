"""The room hub on the in-memory backend: sequence, snapshots, resumes, slow consumers, caps."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from liveloop.kit.realtime import (
    CapacityExceeded,
    MemoryBackend,
    Message,
    RealtimeConfig,
    RoomHub,
    Subscription,
    SubscriptionClosed,
    ViewerStats,
)

NOW = datetime(2026, 11, 20, 21, 3, 4, 512_000, tzinfo=UTC)
WAIT = 5.0  # a safety net only: every wait below ends as soon as the awaited thing happens


def make_hub(**config: Any) -> RoomHub:
    settings = RealtimeConfig(**config)
    return RoomHub(MemoryBackend(settings), settings, now=lambda: NOW)


class Snapshots:
    """A snapshot provider that counts its calls and may publish while it is building."""

    def __init__(self, hub: RoomHub | None = None, publish_meanwhile: int = 0) -> None:
        self.calls = 0
        self.hub = hub
        self.publish_meanwhile = publish_meanwhile

    async def __call__(self, room_id: str) -> dict[str, Any]:
        self.calls += 1
        if self.hub is not None:
            for i in range(self.publish_meanwhile):
                await self.hub.publish(room_id, "chat", {"i": i})
        return {"pinned": {"product": "p-1", "price": {"amount": 1999, "currency": "GBP"}}}


async def drain(sub: Subscription, until_seq: int) -> list[Message]:
    """Pull messages until the one with `until_seq` has arrived."""
    got: list[Message] = []
    async with asyncio.timeout(WAIT):
        while not got or got[-1].seq != until_seq:
            got.extend(await sub.next_batch())
    return got


def seqs(messages: list[Message]) -> list[int | None]:
    return [m.seq for m in messages]


async def test_publish_numbers_events_per_room_and_encodes_the_envelope_once() -> None:
    hub = make_hub()
    first = await hub.join("room-1", snapshot_provider=Snapshots())
    second = await hub.join("room-1", snapshot_provider=Snapshots())
    other = await hub.join("room-2", snapshot_provider=Snapshots())

    assert await hub.publish("room-1", "pin", {"product": "p-1"}, media_time_ms=81_250) == 1
    assert await hub.publish("room-1", "unpin", {"product": "p-1"}) == 2
    assert await hub.publish("room-2", "pin", {"product": "p-9"}) == 1

    got_first = await drain(first, 2)
    got_second = await drain(second, 2)
    assert seqs(got_first) == [1, 2]
    assert json.loads(got_first[0].text) == {
        "seq": 1,
        "type": "pin",
        "room": "room-1",
        "at": "2026-11-20T21:03:04.512Z",
        "media_time_ms": 81250,
        "data": {"product": "p-1"},
    }
    assert json.loads(got_first[1].text)["media_time_ms"] is None
    # The very same encoded object reaches every subscriber.
    assert got_first[0] is got_second[0] and got_first[1] is got_second[1]
    assert seqs(await drain(other, 1)) == [1]


async def test_join_sends_a_snapshot_with_the_current_sequence() -> None:
    hub = make_hub()
    await hub.publish("room", "pin", {"product": "p-1"})
    await hub.publish("room", "price", {"amount": 1799})
    snapshots = Snapshots()

    sub = await hub.join("room", snapshot_provider=snapshots, viewer_id="v-1")

    assert snapshots.calls == 1
    assert len(sub.initial) == 1
    assert sub.initial[0].seq == 2
    assert json.loads(sub.initial[0].text) == {
        "type": "snapshot",
        "seq": 2,
        "room": "room",
        "at": "2026-11-20T21:03:04.512Z",
        "data": {"pinned": {"product": "p-1", "price": {"amount": 1999, "currency": "GBP"}}},
    }
    assert sub.initial[0].sse.startswith("id: 2\ndata: {")


async def test_events_published_while_the_snapshot_is_built_follow_it_without_gap() -> None:
    hub = make_hub()
    await hub.publish("room", "chat", {"i": -1})
    sub = await hub.join("room", snapshot_provider=Snapshots(hub, publish_meanwhile=3))

    assert sub.initial[0].seq == 1
    await hub.publish("room", "chat", {"i": 3})
    assert seqs(await drain(sub, 5)) == [2, 3, 4, 5]


async def test_concurrent_joins_and_publishing_give_every_viewer_each_later_event_once() -> None:
    hub = make_hub(replay_size=2048, send_queue=2048)
    rng = random.Random(7)
    total = 400

    async def publisher() -> None:
        for i in range(total):
            await hub.publish("room", "chat", {"i": i})
            await asyncio.sleep(0)  # a yield point, so joins interleave with the publishing

    class SlowSnapshot:
        async def __call__(self, room_id: str) -> dict[str, Any]:
            for _ in range(rng.randint(0, 5)):
                await asyncio.sleep(0)
            return {}

    async def viewer() -> tuple[int, list[Message]]:
        for _ in range(rng.randint(0, 300)):
            await asyncio.sleep(0)
        sub = await hub.join("room", snapshot_provider=SlowSnapshot())
        start = sub.initial[0].seq
        assert start is not None
        return start, await drain(sub, total) if start < total else []

    viewers = [asyncio.ensure_future(viewer()) for _ in range(30)]
    await publisher()
    results = await asyncio.gather(*viewers)
    starts = set()
    for start, messages in results:
        starts.add(start)
        assert seqs(messages) == list(range(start + 1, total + 1))
    assert len(starts) > 5  # the viewers really joined at different points


async def test_resume_within_the_buffer_replays_the_missed_events_then_goes_live() -> None:
    hub = make_hub(replay_size=4)
    for i in range(6):
        await hub.publish("room", "chat", {"i": i})
    snapshots = Snapshots()

    sub = await hub.join("room", snapshot_provider=snapshots, last_seq=2)

    assert snapshots.calls == 0
    assert seqs(sub.initial) == [3, 4, 5, 6]
    await hub.publish("room", "chat", {"i": 6})
    assert seqs(await drain(sub, 7)) == [7]


async def test_resume_at_the_current_sequence_has_nothing_to_replay() -> None:
    hub = make_hub()
    await hub.publish("room", "chat", {"i": 0})
    snapshots = Snapshots()

    sub = await hub.join("room", snapshot_provider=snapshots, last_seq=1)

    assert (sub.initial, snapshots.calls) == ([], 0)
    await hub.publish("room", "chat", {"i": 1})
    assert seqs(await drain(sub, 2)) == [2]


async def test_resume_older_than_the_buffer_gets_a_fresh_snapshot() -> None:
    hub = make_hub(replay_size=4)
    for i in range(6):
        await hub.publish("room", "chat", {"i": i})
    snapshots = Snapshots()

    sub = await hub.join("room", snapshot_provider=snapshots, last_seq=1)

    assert snapshots.calls == 1
    assert [json.loads(m.text)["type"] for m in sub.initial] == ["snapshot"]
    assert seqs(sub.initial) == [6]


async def test_resume_from_the_future_gets_an_error_then_a_fresh_snapshot() -> None:
    hub = make_hub()
    for i in range(3):
        await hub.publish("room", "chat", {"i": i})

    sub = await hub.join("room", snapshot_provider=Snapshots(), last_seq=9)

    error, snapshot = (json.loads(m.text) for m in sub.initial)
    assert error == {
        "type": "error",
        "code": "resume_from_future",
        "detail": "Sequence 9 is ahead of this room (3); here is a fresh snapshot.",
        "last_seq": 9,
        "current_seq": 3,
    }
    assert sub.initial[0].seq is None
    assert (snapshot["type"], snapshot["seq"]) == ("snapshot", 3)


class BlockingSender:
    """A socket that accepts the first frame and then never drains."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.cancelled = asyncio.Event()
        self._never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def __call__(self, text: str) -> None:
        if self.sent:
            try:
                await self._never
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        self.sent.append(text)


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[int] = []
        self.got = asyncio.Event()
        self.expect = 0

    async def __call__(self, text: str) -> None:
        self.sent.append(json.loads(text)["seq"])
        if len(self.sent) >= self.expect:
            self.got.set()


async def test_a_slow_consumer_is_dropped_and_never_holds_up_the_room() -> None:
    hub = make_hub(send_queue=3)
    stuck = BlockingSender()
    healthy = RecordingSender()
    healthy.expect = 10
    slow_sub = await hub.join("room", snapshot_provider=Snapshots())
    fast_sub = await hub.join("room", snapshot_provider=Snapshots())
    slow_sub.attach(stuck)
    fast_sub.attach(healthy)

    for i in range(10):
        # Each publish returns at once: nothing in it waits for any socket.
        async with asyncio.timeout(WAIT):
            await hub.publish("room", "chat", {"i": i})

    assert slow_sub.closed_reason == "slow_consumer"
    assert await asyncio.wait_for(slow_sub.wait_closed(), WAIT) == "slow_consumer"
    await asyncio.wait_for(stuck.cancelled.wait(), WAIT)
    assert len(stuck.sent) == 1
    assert healthy.sent == list(range(1, 11))
    assert hub.local_viewers("room") == 1
    assert hub.connections == 1


async def test_a_socket_that_is_briefly_busy_gets_its_queue_in_order() -> None:
    hub = make_hub(send_queue=10)
    release = asyncio.Event()
    sent: list[int] = []
    all_sent = asyncio.Event()

    async def busy_once(text: str) -> None:
        if not sent and not release.is_set():
            await release.wait()
        sent.append(json.loads(text)["seq"])
        if len(sent) == 4:
            all_sent.set()

    sub = await hub.join("room", snapshot_provider=Snapshots())
    sub.attach(busy_once)
    for i in range(4):
        await hub.publish("room", "chat", {"i": i})
    assert sent == []
    release.set()
    await asyncio.wait_for(all_sent.wait(), WAIT)
    assert sent == [1, 2, 3, 4]
    assert sub.closed_reason is None


async def test_private_messages_go_to_one_client_in_order_with_the_room() -> None:
    hub = make_hub()
    texts: list[str] = []

    async def record(text: str) -> None:
        texts.append(text)

    one = await hub.join("room", snapshot_provider=Snapshots())
    two = await hub.join("room", snapshot_provider=Snapshots())
    one.attach(record)
    two_texts: list[str] = []

    async def record_two(text: str) -> None:
        two_texts.append(text)

    two.attach(record_two)
    await hub.publish("room", "chat", {"i": 0})
    one.send_private(Message(None, '{"type":"pong"}'))
    await hub.publish("room", "chat", {"i": 1})

    assert [json.loads(t).get("seq", "pong") for t in texts] == [1, "pong", 2]
    assert [json.loads(t)["seq"] for t in two_texts] == [1, 2]


async def test_connection_caps_refuse_joins_with_a_clear_code() -> None:
    hub = make_hub(max_connections=3, max_room_connections=2)
    a = await hub.join("room", snapshot_provider=Snapshots())
    await hub.join("room", snapshot_provider=Snapshots())

    with pytest.raises(CapacityExceeded) as full_room:
        await hub.join("room", snapshot_provider=Snapshots())
    assert full_room.value.code == "room_full"

    await hub.join("other", snapshot_provider=Snapshots())
    with pytest.raises(CapacityExceeded) as full_server:
        await hub.join("third", snapshot_provider=Snapshots())
    assert full_server.value.code == "server_full"

    hub.leave(a)
    assert (await hub.join("room", snapshot_provider=Snapshots())).closed_reason is None
    assert hub.connections == 3


async def test_a_failing_snapshot_provider_leaves_no_subscription_behind() -> None:
    hub = make_hub()

    async def broken(room_id: str) -> dict[str, Any]:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        await hub.join("room", snapshot_provider=broken)
    assert (hub.connections, hub.local_viewers("room")) == (0, 0)


async def test_viewer_counts_are_broadcast_periodically_only_when_they_change() -> None:
    hub = make_hub()
    watcher = await hub.join("room", snapshot_provider=Snapshots(), viewer_id="host")
    v1 = await hub.join("room", snapshot_provider=Snapshots(), viewer_id="v-1")
    await hub.join("room", snapshot_provider=Snapshots(), viewer_id="v-2")

    await hub.tick_viewers()
    await hub.tick_viewers()  # unchanged: nothing published
    hub.leave(v1)
    await hub.join("room", snapshot_provider=Snapshots(), viewer_id="v-2")  # the same viewer again
    hub.leave(v1)
    await hub.tick_viewers()  # 3 again: unchanged
    await hub.join("room", snapshot_provider=Snapshots(), viewer_id="v-3")
    await hub.tick_viewers()

    messages = await drain(watcher, 2)
    assert [json.loads(m.text)["data"] for m in messages] == [{"now": 3}, {"now": 4}]
    assert await hub.viewer_stats("room") == ViewerStats(now=4, peak=4, unique=4)


async def test_a_room_whose_last_viewer_left_reports_zero_once() -> None:
    hub = make_hub()
    sub = await hub.join("room", snapshot_provider=Snapshots())
    await hub.tick_viewers()
    hub.leave(sub)
    await hub.tick_viewers()
    await hub.tick_viewers()

    late = await hub.join("room", snapshot_provider=Snapshots(), last_seq=0)
    assert [json.loads(m.text)["data"] for m in late.initial] == [{"now": 1}, {"now": 0}]


async def test_closing_the_hub_ends_every_subscription() -> None:
    hub = make_hub()
    sub = await hub.join("room", snapshot_provider=Snapshots())
    await hub.start(viewers_ticker=False)

    await hub.close()

    assert sub.closed_reason == "shutdown"
    with pytest.raises(SubscriptionClosed) as closed:
        await sub.next_batch()
    assert closed.value.reason == "shutdown"
    assert hub.connections == 0
