"""A tiny app that mounts the real-time channel, for the transport tests: in-process around a
given hub, or under uvicorn (`tests.integration.kit.realtime_app:app`) with its own hub, in
Redis mode when LIVELOOP_REDIS_URL is set."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import Response
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Scope

from liveloop.kit.deps import get_session
from liveloop.kit.errors import LiveloopError, Unprocessable, install_handlers
from liveloop.kit.http import UnitOfWorkMiddleware
from liveloop.kit.realtime import (
    ClientMessage,
    RealtimeConfig,
    RoomHub,
    create_hub,
    serve_sse,
    serve_websocket,
)


def config_from_env() -> RealtimeConfig:
    return RealtimeConfig(
        replay_size=int(os.environ.get("LIVELOOP_TEST_RT_REPLAY", "512")),
        max_room_connections=int(os.environ.get("LIVELOOP_TEST_RT_ROOM_CAP", "1000")),
        viewers_interval=3600.0,
    )


async def _anonymous(scope: Scope, session: AsyncSession) -> str:
    return "anonymous"


def create_app(
    hub: RoomHub | None = None,
    *,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """With a sessionmaker, requests run under liveloop's unit-of-work middleware and the SSE
    route opens the request's database session, as an authenticated endpoint would."""
    state: dict[str, RoomHub] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if hub is not None:
            state["hub"] = hub
            yield
            return
        url = os.environ.get("LIVELOOP_REDIS_URL") or None
        redis = Redis.from_url(url) if url else None
        own = create_hub(redis, config_from_env())
        await own.start(viewers_ticker=False)
        state["hub"] = own
        try:
            yield
        finally:
            await own.close()
            if redis is not None:
                await redis.aclose()

    app = FastAPI(lifespan=lifespan)
    install_handlers(app)
    if sessionmaker is not None:
        app.add_middleware(
            UnitOfWorkMiddleware, sessionmaker=lambda: sessionmaker, scope_key=_anonymous
        )

    async def snapshot(room_id: str) -> dict[str, Any]:
        if room_id.startswith("broken-"):
            raise RuntimeError("the snapshot store is down")
        return {"room": room_id, "pid": os.getpid()}

    async def on_client_message(message: ClientMessage) -> dict[str, Any] | None:
        if message.type == "chat":
            text = message.body.get("text")
            if not isinstance(text, str) or not text:
                raise Unprocessable("A chat message needs text.", code="invalid_chat")
            seq = await state["hub"].publish(
                message.room_id, "chat", {"text": text, "by": message.viewer_id}
            )
            return {"type": "ack", "seq": seq}
        raise LiveloopError(f"Unknown message {message.type!r}.", code="unsupported_message")

    @app.websocket("/rooms/{room_id}/ws")
    async def room_ws(websocket: WebSocket, room_id: str) -> None:
        await serve_websocket(
            websocket,
            state["hub"],
            room_id,
            viewer_id=websocket.query_params.get("viewer"),
            snapshot_provider=snapshot,
            on_client_message=on_client_message,
        )

    @app.get("/rooms/{room_id}/events")
    async def room_sse(request: Request, room_id: str) -> Response:
        if sessionmaker is not None:
            await get_session(request).execute(text("SELECT 1"))
        return await serve_sse(request, state["hub"], room_id, snapshot_provider=snapshot)

    @app.post("/rooms/{room_id}/publish")
    async def publish(room_id: str, request: Request) -> dict[str, int]:
        body = await request.json()
        seq = await state["hub"].publish(
            room_id, body["type"], body["data"], media_time_ms=body.get("media_time_ms")
        )
        return {"seq": seq}

    @app.post("/rooms/{room_id}/tick")
    async def tick(room_id: str) -> dict[str, int]:
        await state["hub"].tick_viewers()
        stats = await state["hub"].viewer_stats(room_id)
        return {"now": stats.now, "peak": stats.peak, "unique": stats.unique}

    return app


app = create_app()
