"""The room hub: per-room sequence numbers, encode-once fan-out, join snapshots and resumes."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Protocol

from liveloop.kit.clock import clock

log = logging.getLogger("liveloop.realtime")

SnapshotProvider = Callable[[str], Awaitable[dict[str, Any]]]
"""Builds the state a (re)joining viewer needs, for one room; the hub adds the sequence number."""

Sender = Callable[[str], Coroutine[Any, Any, None]]
"""Sends one text frame to one client (for instance `WebSocket.send_text`)."""

# Close codes a client acts on: reconnect at once with `last_seq`, or back off and retry.
CLOSE_SLOW_CONSUMER = 4000
CLOSE_RESYNC = 4001
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_OVERLOADED = 1013

SLOW_CONSUMER = "slow_consumer"
RESYNC = "resync"
LEFT = "left"
SHUTDOWN = "shutdown"


@dataclass(frozen=True, slots=True)
class RealtimeConfig:
    """Limits and intervals of the real-time channel; every one is per process."""

    replay_size: int = 512
    """Events kept per room for resuming clients; older resumes get a fresh snapshot."""
    send_queue: int = 256
    """Messages that may wait for one slow client before it is dropped."""
    max_connections: int = 20_000
    max_room_connections: int = 20_000
    viewers_interval: float = 5.0
    """Seconds between viewer-count broadcasts (sent only when the count changed)."""
    max_frame_bytes: int = 4096
    """Largest frame a client may send; bigger ones close the socket with 1009."""
    sse_heartbeat: float = 15.0
    room_ttl: float = 2 * 24 * 3600.0
    """Seconds an idle room's sequence and buffer are kept (renewed by every event)."""
    key_prefix: str = "liveloop:rt"


class CapacityExceeded(Exception):
    """A join refused because the process or the room is at its connection cap."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail

    def __repr__(self) -> str:
        return f"CapacityExceeded(code={self.code!r}, detail={self.detail!r})"


class SubscriptionClosed(Exception):
    """The subscription ended; `reason` says why (slow_consumer, resync, left, shutdown)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Message:
    """One outgoing message, encoded once and shared by every subscriber that receives it.

    `seq` is the room sequence number, or None for messages outside the sequence (errors,
    replies to one client)."""

    __slots__ = ("_sse", "seq", "text")

    def __init__(self, seq: int | None, text: str) -> None:
        self.seq = seq
        self.text = text
        self._sse: str | None = None

    @property
    def sse(self) -> str:
        """The Server-Sent-Events frame, built on first use and then shared."""
        if self._sse is None:
            head = f"id: {self.seq}\n" if self.seq is not None else ""
            self._sse = f"{head}data: {self.text}\n\n"
        return self._sse

    def __repr__(self) -> str:
        return f"Message(seq={self.seq!r}, text={self.text[:60]!r})"


@dataclass(frozen=True, slots=True)
class ViewerStats:
    now: int
    peak: int
    unique: int


def _json_default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(payload: dict[str, Any]) -> str:
    """Compact JSON, the one encoding of every message."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope_tail(
    room_id: str, event_type: str, data: dict[str, Any], media_time_ms: int | None, at: datetime
) -> str:
    """The envelope without its leading `{"seq":n`, so the sequence can be prefixed where it is
    assigned (in Redis, inside the script) without encoding the payload again."""
    body = encode(
        {
            "type": event_type,
            "room": room_id,
            "at": _iso(at),
            "media_time_ms": media_time_ms,
            "data": data,
        }
    )
    return "," + body[1:]


def with_seq(seq: int, tail: str) -> str:
    return '{"seq":' + str(seq) + tail


def error_message(code: str, detail: str, **extra: Any) -> Message:
    return Message(None, encode({"type": "error", "code": code, "detail": detail, **extra}))


class _Resume:
    """Awaits the rest of a coroutine that was started by hand and suspended at `first`."""

    __slots__ = ("coro", "first", "started")

    def __init__(self, coro: Coroutine[Any, Any, None], first: Any) -> None:
        self.coro = coro
        self.first = first
        self.started = False

    def abandon(self) -> None:
        """Unwind the coroutine with CancelledError when no task ever resumed it."""
        if self.started:
            return
        self.started = True
        try:
            self.coro.throw(asyncio.CancelledError())
        except (asyncio.CancelledError, StopIteration):
            pass
        except Exception:
            log.debug("abandoned send failed while unwinding", exc_info=True)

    def __await__(self) -> Generator[Any, Any, None]:
        self.started = True
        coro, value = self.coro, self.first
        while True:
            try:
                sent = yield value
            except BaseException as exc:  # cancellation included: the coroutine must see it
                try:
                    value = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    value = coro.send(sent)
                except StopIteration:
                    return


class Subscription:
    """One client's place in one room: a bounded queue in front of its socket.

    Push mode (`attach(sender)`, used for WebSockets) sends each message straight away when the
    socket is idle: the send coroutine is stepped by hand and almost always completes without
    suspending, so a broadcast costs no task switch per socket. Only a socket that cannot take
    more right now gets a task that drains its queue; when that queue overflows the client is
    dropped as a slow consumer instead of holding up the room. Pull mode (`next_batch`) serves
    Server-Sent Events."""

    __slots__ = (
        "_backlog",
        "_done",
        "_hub",
        "_inflight",
        "_joining",
        "_limit",
        "_pending",
        "_pending_limit",
        "_sender",
        "_waiter",
        "close_code",
        "closed_reason",
        "initial",
        "last_seq",
        "room_id",
        "viewer_id",
    )

    def __init__(
        self,
        hub: RoomHub,
        room_id: str,
        viewer_id: str | None,
        limit: int,
        pending_limit: int,
    ) -> None:
        self._hub = hub
        self.room_id = room_id
        self.viewer_id = viewer_id
        self.initial: list[Message] = []
        """What to send before the live stream: an error, a snapshot, or the missed events."""
        self.last_seq = 0
        self.closed_reason: str | None = None
        self.close_code: int | None = None
        """The WebSocket close code chosen by whoever ended the subscription, if any."""
        self._limit = limit
        # While joining, events wait behind the snapshot; a busy room may send a burst then.
        self._pending_limit = pending_limit
        self._joining = True
        self._pending: list[Message] = []
        self._backlog: deque[Message] = deque()
        self._sender: Sender | None = None
        self._inflight: asyncio.Task[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._done: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def __repr__(self) -> str:
        return (
            f"Subscription(room={self.room_id!r}, viewer={self.viewer_id!r}, "
            f"last_seq={self.last_seq}, closed={self.closed_reason!r})"
        )

    # -- called by the hub -------------------------------------------------------------------

    def _offer(self, message: Message) -> None:
        """Hot path: one room event for this client."""
        if self.closed_reason is not None:
            return
        if self._joining:
            self._pending.append(message)
            if len(self._pending) > self._pending_limit:
                self.close(SLOW_CONSUMER)
            return
        seq = message.seq
        if seq is not None:
            if seq <= self.last_seq:
                return  # already covered by the snapshot or the replay
            self.last_seq = seq
        if self._inflight is None and self._sender is not None:
            self._send_now(self._sender, message.text)
            return
        self._backlog.append(message)
        if len(self._backlog) > self._limit:
            self.close(SLOW_CONSUMER)
            return
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _start(self, last_seq: int, initial: list[Message]) -> None:
        self.last_seq = last_seq
        self.initial = initial

    # -- push mode ---------------------------------------------------------------------------

    def attach(self, sender: Sender) -> None:
        """Go live in push mode: events that arrived while joining, then each as it comes.
        Send `initial` before calling this."""
        if self._sender is not None:
            raise RuntimeError("subscription already attached")
        self._sender = sender
        self._go_live()

    def send_private(self, message: Message) -> None:
        """A message for this client only (an error, a reply), in order with the room's."""
        self._offer(message)

    def _send_now(self, sender: Sender, text: str) -> None:
        coro = sender(text)
        try:
            suspended_at = coro.send(None)
        except StopIteration:
            return
        except Exception as exc:
            self._send_failed(exc)
            return
        resume = _Resume(coro, suspended_at)
        self._inflight = asyncio.get_running_loop().create_task(self._drain(resume))
        self._inflight.add_done_callback(lambda task: self._drained(task, resume))

    def _drained(self, task: asyncio.Task[None], resume: _Resume) -> None:
        # A task cancelled before its first step never ran `_drain`: unwind the send here.
        resume.abandon()
        if self._inflight is task:
            self._inflight = None

    async def _drain(self, first: _Resume) -> None:
        sender = self._sender
        assert sender is not None
        try:
            await first
            while self._backlog and self.closed_reason is None:
                await sender(self._backlog.popleft().text)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._send_failed(exc)
        finally:
            self._inflight = None

    def _send_failed(self, exc: Exception) -> None:
        log.debug("realtime send failed", extra={"room": self.room_id, "error": repr(exc)})
        self.close(LEFT)

    async def flush(self, max_wait: float) -> None:
        """Wait (at most `max_wait` seconds) until everything queued has been handed over."""
        inflight = self._inflight
        if inflight is not None:
            await asyncio.wait({inflight}, timeout=max_wait)

    # -- pull mode ---------------------------------------------------------------------------

    async def next_batch(self, max_wait: float | None = None) -> list[Message]:
        """Everything queued, waiting up to `max_wait` seconds for at least one message; an
        empty list on timeout. Raises SubscriptionClosed once the subscription has ended."""
        if self._joining:
            self._go_live()
        if not self._backlog:
            if self.closed_reason is not None:
                raise SubscriptionClosed(self.closed_reason)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(self._waiter, max_wait)
            except TimeoutError:
                return []
            finally:
                self._waiter = None
        if self.closed_reason is not None:
            raise SubscriptionClosed(self.closed_reason)
        batch = list(self._backlog)
        self._backlog.clear()
        return batch

    # -- common ------------------------------------------------------------------------------

    def _go_live(self) -> None:
        self._joining = False
        pending, self._pending = self._pending, []
        for message in pending:
            self._offer(message)

    @property
    def ended(self) -> asyncio.Future[str]:
        """Resolves to the reason once the subscription has ended (never cancel it)."""
        return self._done

    async def wait_closed(self) -> str:
        """The reason the subscription ended, once it has."""
        return await asyncio.shield(self._done)

    def close(self, reason: str, *, code: int | None = None) -> None:
        """End the subscription and leave the room; idempotent. `code` is the WebSocket close
        code the client gets (default: by reason, e.g. 4000 for a slow consumer, else 1000)."""
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        self.close_code = code
        self._hub._remove(self)
        self._backlog.clear()
        self._pending.clear()
        if self._inflight is not None and reason != LEFT:
            self._inflight.cancel()  # it may be parked on a socket that will never drain
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        if not self._done.done():
            self._done.set_result(reason)


class Backend(Protocol):
    """Where sequence numbers, replay buffers and viewer counts live (memory or Redis)."""

    async def start(
        self, deliver: Callable[[str, Message], None], resync: Callable[[str], None]
    ) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, room_id: str, tail: str) -> int: ...

    async def current_seq(self, room_id: str) -> int:
        """The last sequence number this process has handed to the room's subscribers (the
        room is watched): a joiner's snapshot is taken at this point."""

    async def latest_seq(self, room_id: str) -> int:
        """The last sequence number assigned in the room, on any process."""

    async def replay(self, room_id: str, after_seq: int, current: int) -> list[Message] | None:
        """Events after `after_seq` (at most `current`, which the caller read just before),
        or None when some of them are no longer kept."""

    async def watch(self, room_id: str) -> None:
        """This process has subscribers in the room: deliver its events from now on."""

    def unwatch(self, room_id: str) -> None: ...

    def note_viewer(self, room_id: str, viewer_id: str | None, local_count: int) -> None:
        """A viewer joined; `local_count` is the room's subscriber count on this process."""

    async def report_viewers(self, counts: dict[str, int]) -> list[tuple[str, int]]:
        """Record this process's counts; returns (room, total) pairs to broadcast now."""

    async def viewer_stats(self, room_id: str, local: int) -> ViewerStats: ...


class _Room:
    __slots__ = ("_members", "subs")

    def __init__(self) -> None:
        self.subs: dict[Subscription, None] = {}
        self._members: tuple[Subscription, ...] | None = None

    def members(self) -> tuple[Subscription, ...]:
        # Cached so a broadcast does not copy the member list; any join or leave resets it.
        if self._members is None:
            self._members = tuple(self.subs)
        return self._members

    def add(self, sub: Subscription) -> None:
        self.subs[sub] = None
        self._members = None

    def discard(self, sub: Subscription) -> bool:
        if sub not in self.subs:
            return False
        del self.subs[sub]
        self._members = None
        return True


class RoomHub:
    """One per process. See the package docstring for the protocol it implements."""

    def __init__(
        self,
        backend: Backend,
        config: RealtimeConfig | None = None,
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.backend = backend
        self.config = config or RealtimeConfig()
        self._now = now
        self._rooms: dict[str, _Room] = {}
        self._connections = 0
        self._reported: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        self._backend_started = False

    @property
    def connections(self) -> int:
        return self._connections

    def local_viewers(self, room_id: str | uuid.UUID) -> int:
        room = self._rooms.get(str(room_id))
        return len(room.subs) if room is not None else 0

    def subscriptions(self, room_id: str | uuid.UUID) -> tuple[Subscription, ...]:
        """This process's subscriptions to a room (to end one: `sub.close("removed")`)."""
        room = self._rooms.get(str(room_id))
        return room.members() if room is not None else ()

    async def start(self, *, viewers_ticker: bool = True) -> None:
        """Start the backend's reader and (unless disabled) the viewer-count broadcaster."""
        if self._started:
            return
        self._started = True
        await self._start_backend()
        if viewers_ticker:
            task = asyncio.get_running_loop().create_task(self._tick_forever())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _start_backend(self) -> None:
        if not self._backend_started:
            self._backend_started = True
            await self.backend.start(self._fanout, self.resync)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for room in list(self._rooms.values()):
            for sub in room.members():
                sub.close(SHUTDOWN)
        await self.backend.close()
        self._started = self._backend_started = False

    # -- publishing --------------------------------------------------------------------------

    async def publish(
        self,
        room_id: str | uuid.UUID,
        event_type: str,
        data: dict[str, Any],
        *,
        media_time_ms: int | None = None,
    ) -> int:
        """Give the event the room's next sequence number, keep it for resumes and send it to
        every viewer of the room (on every process). Returns the sequence number."""
        room = str(room_id)
        if not self._backend_started:
            await self._start_backend()
        tail = envelope_tail(room, event_type, data, media_time_ms, self._now())
        return await self.backend.publish(room, tail)

    def _fanout(self, room_id: str, message: Message) -> None:
        room = self._rooms.get(room_id)
        if room is None:
            return
        for sub in room.members():
            sub._offer(message)

    def resync(self, room_id: str) -> None:
        """Drop every local subscriber of a room whose event stream has a hole; each
        reconnects with its last sequence and gets what it missed or a fresh snapshot."""
        room = self._rooms.get(room_id)
        if room is None:
            return
        log.warning("realtime room resync", extra={"room": room_id})
        for sub in room.members():
            sub.close(RESYNC)

    # -- joining -----------------------------------------------------------------------------

    async def join(
        self,
        room_id: str | uuid.UUID,
        *,
        snapshot_provider: SnapshotProvider,
        last_seq: int | None = None,
        viewer_id: str | uuid.UUID | None = None,
    ) -> Subscription:
        """Subscribe to a room. The subscription's `initial` messages bring the client up to
        date (a snapshot, or the events after `last_seq`); events after those follow, with no
        gap and no duplicate. Raises CapacityExceeded at the connection caps."""
        room_key = str(room_id)
        config = self.config
        if not self._backend_started:
            await self._start_backend()
        if self._connections >= config.max_connections:
            raise CapacityExceeded(
                "server_full", "This server has no room for more viewers; retry shortly."
            )
        room = self._rooms.get(room_key)
        if room is not None and len(room.subs) >= config.max_room_connections:
            raise CapacityExceeded("room_full", "This room is full; retry shortly.")
        viewer = str(viewer_id) if viewer_id is not None else None
        sub = Subscription(
            self, room_key, viewer, config.send_queue, config.send_queue + config.replay_size
        )
        # Registered before the sequence is read: whatever is published from here on is
        # caught in the subscription's pending list, and the snapshot or replay covers the rest.
        if room is None:
            room = self._rooms[room_key] = _Room()
        room.add(sub)
        self._connections += 1
        self.backend.note_viewer(room_key, viewer, len(room.subs))
        try:
            await self.backend.watch(room_key)
            current = await self.backend.current_seq(room_key)
            initial: list[Message] = []
            if last_seq is not None and last_seq > current:
                latest = await self.backend.latest_seq(room_key)
                if last_seq <= latest:
                    # The client saw events (on another process) that this one has not handed
                    # out yet: they are on their way, and those after last_seq will follow.
                    sub._start(last_seq, [])
                    return sub
                initial.append(
                    error_message(
                        "resume_from_future",
                        f"Sequence {last_seq} is ahead of this room ({latest}); "
                        "here is a fresh snapshot.",
                        last_seq=last_seq,
                        current_seq=latest,
                    )
                )
            elif last_seq is not None:
                missed = await self.backend.replay(room_key, last_seq, current)
                if missed is not None:
                    last = missed[-1].seq if missed else None
                    sub._start(last if last is not None else last_seq, missed)
                    return sub
            snapshot = await snapshot_provider(room_key)
            text = encode(
                {
                    "type": "snapshot",
                    "seq": current,
                    "room": room_key,
                    "at": _iso(self._now()),
                    "data": snapshot,
                }
            )
            initial.append(Message(current, text))
            sub._start(current, initial)
            return sub
        except BaseException:
            sub.close(LEFT)
            raise

    def leave(self, sub: Subscription) -> None:
        sub.close(LEFT)

    def _remove(self, sub: Subscription) -> None:
        room = self._rooms.get(sub.room_id)
        if room is None or not room.discard(sub):
            return
        self._connections -= 1
        if not room.subs:
            del self._rooms[sub.room_id]
            self.backend.unwatch(sub.room_id)

    # -- viewer counts -----------------------------------------------------------------------

    async def tick_viewers(self) -> None:
        """Report this process's viewer counts and broadcast the rooms' totals that changed."""
        counts = {room_id: len(room.subs) for room_id, room in self._rooms.items()}
        for gone in self._reported - counts.keys():
            counts[gone] = 0  # report the drop to zero once, then forget the room
        self._reported = {room_id for room_id, count in counts.items() if count}
        for room_id, total in await self.backend.report_viewers(counts):
            await self.publish(room_id, "viewers", {"now": total})

    async def viewer_stats(self, room_id: str | uuid.UUID) -> ViewerStats:
        """Viewers now (all processes), the peak and how many distinct viewer ids joined."""
        key = str(room_id)
        return await self.backend.viewer_stats(key, self.local_viewers(key))

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.viewers_interval)
            try:
                await self.tick_viewers()
            except Exception:
                log.exception("viewer count broadcast failed")
