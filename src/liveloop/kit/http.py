"""ASGI middleware shared by every route: request ids and access logs, metrics, body limits,
and the request's unit of work (one database transaction, committed before the response is
sent, with `Idempotency-Key` replay for POSTs)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from prometheus_client import Counter, Histogram
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liveloop.kit.context import request_id_var
from liveloop.kit.db import commit as db_commit
from liveloop.kit.db import rollback as db_rollback
from liveloop.kit.db import utcnow
from liveloop.kit.errors import problem_body
from liveloop.kit.idempotency import RETENTION, IdempotencyRecord

log = logging.getLogger("liveloop.http")

REQUESTS = Counter("liveloop_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "liveloop_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _send_problem(
    send: Send, status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(problem_body(status, code, detail)).encode()
    raw_headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Gives each request an id (echoed as `X-Request-ID`), logs it, and counts it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "WS")
            if scope["type"] == "http":
                REQUESTS.labels(method, route_path, str(status)).inc()
                LATENCY.labels(method, route_path).observe(elapsed)
                log.info(
                    "request",
                    extra={
                        "method": method,
                        "path": scope.get("path"),
                        "route": route_path,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """Refuses request bodies over the limit with 413, whether declared or streamed.

    Paths matching a pattern in `overrides` (regular expression → bytes) get their own limit,
    e.g. catalog files and video uploads.
    """

    def __init__(self, app: ASGIApp, *, limit: int, overrides: dict[str, int] | None = None):
        self.app = app
        self.limit = limit
        self.overrides = [(re.compile(p), n) for p, n in (overrides or {}).items()]

    def _limit_for(self, path: str) -> int:
        for pattern, limit in self.overrides:
            if pattern.match(path):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope["path"])
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_problem(
                send, 413, "payload_too_large", f"The request body is over {limit} bytes."
            )
            return
        seen = 0
        started = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer now and let the app see a disconnect; whatever it sends is dropped.
                    refused = True
                    if not started:
                        await _send_problem(
                            send,
                            413,
                            "payload_too_large",
                            f"The request body is over {limit} bytes.",
                        )
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)


class RequestDb:
    """The request's database session, opened on first use."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self.session: AsyncSession | None = None

    def get(self) -> AsyncSession:
        if self.session is None:
            self.session = self._sessionmaker()
        return self.session

    async def close(self, *, commit: bool) -> None:
        if self.session is None:
            return
        try:
            if commit:
                await db_commit(self.session)
            else:
                await db_rollback(self.session)
        finally:
            await self.session.close()
            self.session = None


ScopeKeyResolver = Callable[[Scope, AsyncSession], Awaitable[str]]


class UnitOfWorkMiddleware:
    """One transaction per request: committed when the response is a success (< 400) and
    before its first byte is sent, rolled back otherwise. Services flush; only this commits.

    A POST with an `Idempotency-Key` header stores its successful response with the key (in the
    same transaction as the work). A retry with the same key and body replays that response;
    the same key with another body is refused with 422. The key is scoped to the caller.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        sessionmaker: Callable[[], async_sessionmaker[AsyncSession]],
        scope_key: ScopeKeyResolver,
        skip_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self._sessionmaker = sessionmaker
        self._scope_key = scope_key
        self._skip = skip_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self._skip):
            # Mounted third-party simulations (the sandbox card processor) keep their own state.
            await self.app(scope, receive, send)
            return
        db = RequestDb(self._sessionmaker())
        scope.setdefault("state", {})["db"] = db
        key = _header(scope, b"idempotency-key") if scope["method"] == "POST" else None
        if key is not None:
            await self._idempotent(scope, receive, send, db, key)
            return

        held: list[Message] = []
        passthrough = False
        status = 500

        async def hold(message: Message) -> None:
            nonlocal passthrough, status
            if message["type"] == "http.response.start":
                status = message["status"]
                if db.session is None:
                    passthrough = True
            if passthrough:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                await self._finish(db, status, held, send)

        try:
            await self.app(scope, receive, hold)
        except BaseException:
            await db.close(commit=False)
            raise
        finally:
            if db.session is not None:  # the app returned without completing a response
                await db.close(commit=False)

    async def _finish(self, db: RequestDb, status: int, held: list[Message], send: Send) -> None:
        try:
            await db.close(commit=status < 400)
        except IntegrityError:
            log.warning("commit failed on a constraint", exc_info=True)
            await _send_problem(
                send, 409, "conflict", "The change conflicts with another one; try again."
            )
            return
        except DBAPIError:
            log.exception("commit failed")
            await _send_problem(send, 503, "unavailable", "The database did not accept the change.")
            return
        for message in held:
            await send(message)

    async def _idempotent(
        self, scope: Scope, receive: Receive, send: Send, db: RequestDb, key: str
    ) -> None:
        if not _IDEMPOTENCY_KEY.match(key):
            await _send_problem(
                send, 400, "invalid_idempotency_key", "Idempotency-Key must be 1-255 visible ASCII."
            )
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        fingerprint = hashlib.sha256(
            b"\0".join(
                [
                    scope["method"].encode(),
                    scope["path"].encode(),
                    scope.get("query_string", b""),
                    body,
                ]
            )
        ).hexdigest()

        replayed = False

        async def replay_receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        session = db.get()
        owner = await self._scope_key(scope, session)
        existing = await self._find(session, owner, key)
        if existing is not None:
            session.expunge(existing)  # keep its loaded values after the rollback below
            await db.close(commit=False)
            await self._replay_or_refuse(send, existing, fingerprint)
            return
        record = IdempotencyRecord(
            scope_key=owner,
            key=key,
            fingerprint=fingerprint,
            method=scope["method"],
            path=scope["path"][:500],
            expires_at=utcnow() + RETENTION,
        )
        session.add(record)
        try:
            await session.flush()
        except IntegrityError:
            # Another request with this key committed first (PostgreSQL waited for it).
            await db.close(commit=False)
            async with self._sessionmaker()() as fresh:
                existing = await self._find(fresh, owner, key)
            if existing is None:
                await _send_problem(
                    send, 409, "idempotency_in_progress", "A request with this key is in progress."
                )
                return
            await self._replay_or_refuse(send, existing, fingerprint)
            return

        held: list[Message] = []
        status = 500
        headers: list[tuple[bytes, bytes]] = []

        async def hold(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            held.append(message)

        try:
            await self.app(scope, replay_receive, hold)
        except BaseException:
            await db.close(commit=False)
            raise
        if status < 400:
            response_body = b"".join(
                m.get("body", b"") for m in held if m["type"] == "http.response.body"
            )
            record.status_code = status
            record.response_headers = {
                k.decode("latin-1"): v.decode("latin-1")
                for k, v in headers
                if k.lower() in (b"content-type", b"location")
            }
            record.response_body = response_body
        await self._finish(db, status, held, send)

    @staticmethod
    async def _find(session: AsyncSession, owner: str, key: str) -> IdempotencyRecord | None:
        record = await session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.scope_key == owner, IdempotencyRecord.key == key
            )
        )
        if record is not None and record.expires_at < utcnow():
            await session.delete(record)
            await session.flush()
            return None
        return record

    @staticmethod
    async def _replay_or_refuse(send: Send, record: IdempotencyRecord, fingerprint: str) -> None:
        if record.fingerprint != fingerprint:
            await _send_problem(
                send,
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request.",
            )
            return
        body = record.response_body or b""
        raw_headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in (record.response_headers or {}).items()
        ]
        raw_headers += [
            (b"content-length", str(len(body)).encode()),
            (b"idempotent-replayed", b"true"),
        ]
        await send(
            {
                "type": "http.response.start",
                "status": record.status_code or 200,
                "headers": raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": body})


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
