"""The real-time channel of a live room: ordered events to every viewer, over WebSocket or SSE.

How it fits together
--------------------
One `RoomHub` per process (`create_hub(redis, config)`; bootstrap builds it, the app's lifespan
calls `await hub.start()` and `await hub.close()`). Without Redis the `MemoryBackend` keeps
everything in this process; with Redis the `RedisBackend` lets several processes serve one
room, in one order.

Publishing (the live context)::

    seq = await hub.publish(room_id, "pin", {"product": ...}, media_time_ms=81_250)

assigns the room's next sequence number (memory: a counter; Redis: INCR and XADD in one Lua
script, so order == sequence across processes), encodes the envelope once::

    {"seq": 42, "type": "pin", "room": "...", "at": "2026-11-20T21:03:04.512Z",
     "media_time_ms": 81250, "data": {...}}

keeps it in the room's bounded replay buffer (`replay_size`; a capped stream in Redis) and
sends the same text to every viewer (in Redis mode each process's reader task follows the
streams of its rooms and fans out what it reads). `data` must be JSON-serialisable (UUIDs,
datetimes and enums are converted). Events should be idempotent against the snapshot: a
joiner's snapshot may already reflect an event that then arrives (chat messages carry ids,
pins and prices are latest values).

Joining (the endpoints)::

    @router.websocket("/live/{room_id}/ws")
    async def room_ws(websocket: WebSocket, room_id: str) -> None:
        await serve_websocket(websocket, hub, room_id, viewer_id=...,
                              snapshot_provider=build_snapshot, on_client_message=handle)

`serve_sse(request, hub, room_id, ...)` returns the same channel as `text/event-stream`
(`id:` is the sequence number; a comment line every `sse_heartbeat` seconds); it commits and
releases the request's database session before streaming. A join that fails (the snapshot
provider raised) sends an `unavailable` error event and closes 1011 (SSE: 503).
A join first registers the viewer, then reads the room's sequence, then builds the snapshot
with the caller's `snapshot_provider(room_id) -> dict`, and sends
`{"type": "snapshot", "seq": n, "room": ..., "at": ..., "data": {...}}` followed by every
event with seq > n: no gap, no duplicate.

Resuming: a client reconnects with `?last_seq=n` (SSE: `Last-Event-ID`). Within the buffer it
receives the events after n, then the live stream; too old, a fresh snapshot; n ahead of the
room, `{"type": "error", "code": "resume_from_future", ...}` and a fresh snapshot.

Protection: each client has a bounded queue (`send_queue`); a client that cannot keep up is
dropped (close 4000 `slow_consumer` when the close frame still gets through, otherwise the
socket is just dropped; it reconnects with its last seq) and never holds up the publisher.
`max_connections` per process and `max_room_connections` per room refuse joins with
an error event (`server_full` / `room_full`) and close 1013 (SSE: 503). A client frame must
be a JSON object with a string `type` of at most `max_frame_bytes`: a malformed one gets a
`malformed_message` error event, an oversized one `message_too_large` and close 1009;
`{"type": "ping"}` gets `{"type": "pong"}`. A Redis reader that finds a hole in a stream
closes that room's local sockets with 4001 `resync`.

Removing a viewer (moderation): `for sub in hub.subscriptions(room): sub.close("blocked",
code=4003)` ends that socket with the given close code.

Viewer counts: every `viewers_interval` seconds each process reports its count per room
(Redis: a hash of per-process counts that expire) and a `viewers` event `{"now": total}` is
published when the total changed: never one event per join or leave. `hub.viewer_stats(room)`
gives now, peak and unique viewer ids (a HyperLogLog in Redis).
"""

from __future__ import annotations

from redis.asyncio import Redis

from liveloop.kit.realtime.hub import (
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_OVERLOADED,
    CLOSE_RESYNC,
    CLOSE_SLOW_CONSUMER,
    CapacityExceeded,
    Message,
    RealtimeConfig,
    RoomHub,
    SnapshotProvider,
    Subscription,
    SubscriptionClosed,
    ViewerStats,
)
from liveloop.kit.realtime.memory import MemoryBackend
from liveloop.kit.realtime.redis_backend import RedisBackend
from liveloop.kit.realtime.transport import (
    ClientMessage,
    ClientMessageHandler,
    serve_sse,
    serve_websocket,
)


def create_hub(redis: Redis | None, config: RealtimeConfig | None = None) -> RoomHub:
    """The process's hub: shared through Redis when there is one, in memory otherwise."""
    config = config or RealtimeConfig()
    if redis is None:
        return RoomHub(MemoryBackend(config), config)
    return RoomHub(RedisBackend(redis, config), config)


__all__ = [
    "CLOSE_MESSAGE_TOO_BIG",
    "CLOSE_OVERLOADED",
    "CLOSE_RESYNC",
    "CLOSE_SLOW_CONSUMER",
    "CapacityExceeded",
    "ClientMessage",
    "ClientMessageHandler",
    "MemoryBackend",
    "Message",
    "RealtimeConfig",
    "RedisBackend",
    "RoomHub",
    "SnapshotProvider",
    "Subscription",
    "SubscriptionClosed",
    "ViewerStats",
    "create_hub",
    "serve_sse",
    "serve_websocket",
]
