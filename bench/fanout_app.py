"""The benchmark's target app: one room channel (liveloop's RoomHub) and a pin trigger.

Run by `bench.fanout` under uvicorn. With LIVELOOP_REDIS_URL set, the Redis backend lets
several workers serve one room. LIVELOOP_BENCH_VIEWERS_INTERVAL sets the viewer-count period.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from redis.asyncio import Redis

from liveloop.kit.realtime import RealtimeConfig, RoomHub, create_hub, serve_websocket

_state: dict[str, RoomHub] = {}


def _hub() -> RoomHub:
    return _state["hub"]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    url = os.environ.get("LIVELOOP_REDIS_URL") or None
    redis = Redis.from_url(url) if url else None
    config = RealtimeConfig(
        max_connections=60_000,
        max_room_connections=60_000,
        viewers_interval=float(os.environ.get("LIVELOOP_BENCH_VIEWERS_INTERVAL", "5")),
    )
    hub = create_hub(redis, config)
    await hub.start()
    _state["hub"] = hub
    try:
        yield
    finally:
        await hub.close()
        if redis is not None:
            await redis.aclose()


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


async def _snapshot(room_id: str) -> dict[str, Any]:
    return {"room": room_id, "pinned": None, "pid": os.getpid()}


@app.websocket("/rooms/{room_id}/ws")
async def room_ws(websocket: WebSocket, room_id: str) -> None:
    await serve_websocket(websocket, _hub(), room_id, snapshot_provider=_snapshot)


@app.post("/rooms/{room_id}/pin")
async def pin(room_id: str, request: Request) -> dict[str, Any]:
    body = await request.json()
    started = time.perf_counter()
    seq = await _hub().publish(room_id, "pin", body)
    # In memory mode the fan-out to this process's sockets happens inside publish.
    return {"seq": seq, "publish_ms": (time.perf_counter() - started) * 1000}


@app.get("/healthz")
async def healthz() -> dict[str, Any]:
    hub = _hub()
    return {
        "status": "ok",
        "pid": os.getpid(),
        "connections": hub.connections,
        "rss_kib": rss_kib(),
    }


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
