"""WebSocket and Server-Sent-Events endpoints for a room's real-time channel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from liveloop.kit.errors import LiveloopError, problem_response
from liveloop.kit.http import RequestDb
from liveloop.kit.realtime.hub import (
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_OVERLOADED,
    CLOSE_RESYNC,
    CLOSE_SLOW_CONSUMER,
    LEFT,
    RESYNC,
    SHUTDOWN,
    SLOW_CONSUMER,
    CapacityExceeded,
    Message,
    RoomHub,
    Sender,
    SnapshotProvider,
    Subscription,
    SubscriptionClosed,
    encode,
    error_message,
)

log = logging.getLogger("liveloop.realtime")

_CLOSE_CODES = {SLOW_CONSUMER: CLOSE_SLOW_CONSUMER, RESYNC: CLOSE_RESYNC, SHUTDOWN: 1001}
_CLOSE_TIMEOUT = 1.0
_PONG = Message(None, '{"type":"pong"}')
_UNAVAILABLE = error_message("unavailable", "The live channel is unavailable; retry shortly.")


@dataclass(frozen=True, slots=True)
class ClientMessage:
    """A valid frame from a viewer: a JSON object with a string `type` (chat, tap, ...)."""

    room_id: str
    viewer_id: str | None
    type: str
    body: dict[str, Any]


ClientMessageHandler = Callable[[ClientMessage], Awaitable[dict[str, Any] | None]]
"""Handles one client frame; a returned dict is sent to that client only. A LiveloopError it
raises becomes an error event (its code and detail) for that client only."""


def parse_last_seq(raw: str | None) -> tuple[int | None, Message | None]:
    """The resume point a client sent, or an error event to send it when the value is junk."""
    if raw is None or raw == "":
        return None, None
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw), None
    return None, error_message(
        "invalid_resume", "last_seq must be a non-negative integer; here is a fresh snapshot."
    )


async def serve_websocket(
    websocket: WebSocket,
    hub: RoomHub,
    room_id: str,
    *,
    snapshot_provider: SnapshotProvider,
    viewer_id: str | None = None,
    on_client_message: ClientMessageHandler | None = None,
) -> None:
    """Run one viewer's WebSocket: accept, send the snapshot (or the events missed since
    `?last_seq=`), stream the room's events, and hand the viewer's valid frames to
    `on_client_message`. Bad frames get an error event; a frame over the size limit also
    closes the socket with 1009. Nothing one client sends affects the others."""
    await websocket.accept()
    last_seq, problem = parse_last_seq(websocket.query_params.get("last_seq"))
    try:
        sub = await hub.join(
            room_id, snapshot_provider=snapshot_provider, last_seq=last_seq, viewer_id=viewer_id
        )
    except CapacityExceeded as exc:
        await websocket.send_text(error_message(exc.code, exc.detail).text)
        await websocket.close(CLOSE_OVERLOADED, exc.code)
        return
    except Exception:
        log.exception("realtime join failed", extra={"room": room_id})
        await websocket.send_text(_UNAVAILABLE.text)
        await websocket.close(1011, "unavailable")
        return
    reader: asyncio.Task[tuple[int, str] | None] | None = None
    try:
        if problem is not None:
            await websocket.send_text(problem.text)
        for message in sub.initial:
            await websocket.send_text(message.text)
        sub.attach(_text_sender(websocket))
        reader = asyncio.get_running_loop().create_task(
            _read_frames(websocket, sub, on_client_message, hub.config.max_frame_bytes)
        )
        ended = sub.ended
        watched: set[asyncio.Future[Any]] = {reader, ended}
        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        if not reader.done():
            # The hub ended the subscription (slow consumer, resync, shutdown, or the socket
            # failed under a send, in which case there is nobody left to tell).
            reader.cancel()
            reason = ended.result()
            if reason != LEFT:
                code = sub.close_code or _CLOSE_CODES.get(reason, 1000)
                await _close(websocket, code, reason)
            return
        outcome = reader.result()
        if outcome is not None:
            code, reason = outcome
            await sub.flush(_CLOSE_TIMEOUT)  # let the error event go out before the close
            sub.close(LEFT)
            await _close(websocket, code, reason)
    except WebSocketDisconnect:
        pass
    finally:
        if reader is not None and not reader.done():
            reader.cancel()
        sub.close(LEFT)


def _text_sender(websocket: WebSocket) -> Sender:
    """Sends a text frame through the connection's ASGI `send` itself: a broadcast reaches
    every socket through this, and skipping Starlette's per-call state checks measurably
    shortens it. The handshake and the close still go through the WebSocket object."""
    send = getattr(websocket, "_send", None)
    if send is None:
        return websocket.send_text

    def send_text(text: str) -> Coroutine[Any, Any, None]:
        sending = send({"type": "websocket.send", "text": text})
        if asyncio.iscoroutine(sending):
            return sending
        return _awaited(sending)  # the hub steps coroutines; wrap any other awaitable

    return send_text


async def _awaited(awaitable: Awaitable[None]) -> None:
    await awaitable


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    # A slow client's buffer may never drain; give up and let the server drop the socket.
    with contextlib.suppress(TimeoutError, RuntimeError, OSError, WebSocketDisconnect):
        await asyncio.wait_for(websocket.close(code, reason), _CLOSE_TIMEOUT)


async def _read_frames(
    websocket: WebSocket,
    sub: Subscription,
    handler: ClientMessageHandler | None,
    max_bytes: int,
) -> tuple[int, str] | None:
    """Reads the client's frames until it leaves (None) or must be closed (code, reason)."""
    while True:
        try:
            frame = await websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return None
        if frame["type"] == "websocket.disconnect":
            return None
        text = frame.get("text")
        if text is None:
            sub.send_private(error_message("malformed_message", "Send JSON in text frames."))
            continue
        if len(text) > max_bytes or len(text.encode()) > max_bytes:
            sub.send_private(
                error_message(
                    "message_too_large",
                    f"A frame may be at most {max_bytes} bytes.",
                    limit=max_bytes,
                )
            )
            return CLOSE_MESSAGE_TOO_BIG, "message too large"
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            sub.send_private(
                error_message("malformed_message", 'A frame must be a JSON object with a "type".')
            )
            continue
        kind = body["type"]
        if kind == "ping":
            sub.send_private(_PONG)
            continue
        if handler is None:
            sub.send_private(error_message("unsupported_message", f"Unknown message {kind!r}."))
            continue
        try:
            reply = await handler(ClientMessage(sub.room_id, sub.viewer_id, kind, body))
        except LiveloopError as exc:
            sub.send_private(error_message(exc.code, exc.detail))
            continue
        except Exception:
            log.exception("realtime client message failed", extra={"room": sub.room_id})
            sub.send_private(error_message("internal_error", "That message could not be handled."))
            continue
        if reply is not None:
            sub.send_private(Message(None, encode(reply)))


async def serve_sse(
    request: Request,
    hub: RoomHub,
    room_id: str,
    *,
    snapshot_provider: SnapshotProvider,
    viewer_id: str | None = None,
) -> Response:
    """The same channel as a `text/event-stream` (for clients without WebSockets). Each event's
    `id:` is its sequence number, so a reconnecting EventSource resumes through `Last-Event-ID`
    (or `?last_seq=`). The request's database session is committed and released before the
    stream starts, so an open stream holds no database connection."""
    raw = request.headers.get("last-event-id") or request.query_params.get("last_seq")
    last_seq, problem = parse_last_seq(raw)
    try:
        sub = await hub.join(
            room_id, snapshot_provider=snapshot_provider, last_seq=last_seq, viewer_id=viewer_id
        )
    except CapacityExceeded as exc:
        return problem_response(503, exc.code, exc.detail, headers={"Retry-After": "5"})
    except Exception:
        log.exception("realtime join failed", extra={"room": room_id})
        return problem_response(
            503, "unavailable", "The live channel is unavailable; retry shortly."
        )
    try:
        db = getattr(request.state, "db", None)
        if isinstance(db, RequestDb):
            await db.close(commit=True)
    except BaseException:
        sub.close(LEFT)
        raise
    initial = [problem, *sub.initial] if problem is not None else list(sub.initial)
    return EventStreamResponse(sub, initial, heartbeat=hub.config.sse_heartbeat)


class EventStreamResponse(StreamingResponse):
    """Streams one subscription as Server-Sent Events and ends it when the client goes."""

    def __init__(self, sub: Subscription, initial: list[Message], *, heartbeat: float) -> None:
        self._sub = sub
        self._initial = initial
        self._heartbeat = heartbeat
        super().__init__(
            self._frames(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _frames(self) -> AsyncIterator[str]:
        yield "retry: 2000\n\n" + "".join(message.sse for message in self._initial)
        while True:
            try:
                batch = await self._sub.next_batch(self._heartbeat)
            except SubscriptionClosed as closed:
                if closed.reason != LEFT:
                    yield error_message(closed.reason, "Reconnect to continue.").sse
                return
            yield "".join(message.sse for message in batch) if batch else ": keepalive\n\n"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            self._sub.close(LEFT)

        watcher = asyncio.get_running_loop().create_task(watch_disconnect())
        try:
            await self.stream_response(send)
        except OSError:
            pass  # the client went away mid-write
        finally:
            watcher.cancel()
            self._sub.close(LEFT)
