"""The in-process backend: one API process serves every viewer of a room from memory."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from liveloop.kit.realtime.hub import Message, RealtimeConfig, ViewerStats, with_seq


class _RoomLog:
    __slots__ = ("buffer", "last_published", "last_used", "peak", "seq", "viewer_ids")

    def __init__(self, replay_size: int) -> None:
        self.seq = 0
        self.buffer: deque[Message] = deque(maxlen=replay_size)
        self.peak = 0
        self.viewer_ids: set[str] = set()
        self.last_published = 0
        self.last_used = time.monotonic()


class MemoryBackend:
    """Sequence numbers, replay buffers and viewer counts in this process's memory.

    Publishing assigns the sequence number and fans out without awaiting in between, so the
    order every viewer sees is the sequence order."""

    def __init__(self, config: RealtimeConfig | None = None) -> None:
        self._config = config or RealtimeConfig()
        self._rooms: dict[str, _RoomLog] = {}
        self._deliver: Callable[[str, Message], None] = lambda _room, _message: None

    def _room(self, room_id: str) -> _RoomLog:
        room = self._rooms.get(room_id)
        if room is None:
            room = self._rooms[room_id] = _RoomLog(self._config.replay_size)
        return room

    async def start(
        self, deliver: Callable[[str, Message], None], resync: Callable[[str], None]
    ) -> None:
        self._deliver = deliver

    async def close(self) -> None:
        return None

    async def publish(self, room_id: str, tail: str) -> int:
        room = self._room(room_id)
        room.seq += 1
        message = Message(room.seq, with_seq(room.seq, tail))
        room.buffer.append(message)
        room.last_used = time.monotonic()
        self._deliver(room_id, message)
        return room.seq

    async def current_seq(self, room_id: str) -> int:
        room = self._rooms.get(room_id)
        return room.seq if room is not None else 0

    async def latest_seq(self, room_id: str) -> int:
        return await self.current_seq(room_id)

    async def replay(self, room_id: str, after_seq: int, current: int) -> list[Message] | None:
        room = self._rooms.get(room_id)
        if room is None or after_seq >= room.seq:
            return []
        if not room.buffer or room.buffer[0].seq is None or room.buffer[0].seq > after_seq + 1:
            return None
        skip = after_seq + 1 - room.buffer[0].seq
        return [room.buffer[i] for i in range(skip, len(room.buffer))]

    async def watch(self, room_id: str) -> None:
        return None

    def unwatch(self, room_id: str) -> None:
        return None

    def note_viewer(self, room_id: str, viewer_id: str | None, local_count: int) -> None:
        room = self._room(room_id)
        room.peak = max(room.peak, local_count)
        if viewer_id is not None:
            room.viewer_ids.add(viewer_id)
        room.last_used = time.monotonic()

    async def report_viewers(self, counts: dict[str, int]) -> list[tuple[str, int]]:
        changed = []
        for room_id, count in counts.items():
            room = self._room(room_id)
            room.last_used = time.monotonic()
            if count != room.last_published:
                room.last_published = count
                changed.append((room_id, count))
        self._forget_idle(set(counts))
        return changed

    def _forget_idle(self, active: set[str]) -> None:
        horizon = time.monotonic() - self._config.room_ttl
        for room_id in [r for r, room in self._rooms.items() if room.last_used < horizon]:
            if room_id not in active:
                del self._rooms[room_id]

    async def viewer_stats(self, room_id: str, local: int) -> ViewerStats:
        room = self._rooms.get(room_id)
        if room is None:
            return ViewerStats(now=local, peak=local, unique=0)
        return ViewerStats(now=local, peak=max(room.peak, local), unique=len(room.viewer_ids))
