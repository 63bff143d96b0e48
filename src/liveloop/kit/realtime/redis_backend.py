"""The Redis backend: several API processes serve one room, in one order, through a stream."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from liveloop.kit.realtime.hub import Message, RealtimeConfig, ViewerStats

log = logging.getLogger("liveloop.realtime")

# The sequence number and the stream entry are created in one script, so the stream order is
# the sequence order whichever process publishes. The entry id is "<seq>-0", which lets a resume
# read "everything after seq n" directly. The envelope is encoded once by the publisher; the
# script only prefixes the sequence number.
_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
local id = seq .. '-0'
local text = '{"seq":' .. seq .. ARGV[1]
local added = redis.pcall('XADD', KEYS[2], 'MAXLEN', ARGV[2], id, 'm', text)
if type(added) == 'table' and added.err then
  -- the counter expired or was deleted while the stream survived: start the stream again
  redis.call('DEL', KEYS[2])
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], id, 'm', text)
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return seq
"""

# Each process reports its count as "count:expires_at_ms" under its own field; stale fields
# (a process that died) are dropped. One process per interval (the lock holder) decides whether
# the total changed and so should be broadcast.
_VIEWERS = """
local now = tonumber(ARGV[3])
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. (now + tonumber(ARGV[4])))
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
local total = 0
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local value = entries[i + 1]
  local sep = string.find(value, ':', 1, true)
  if tonumber(string.sub(value, sep + 1)) < now then
    redis.call('HDEL', KEYS[1], entries[i])
  else
    total = total + tonumber(string.sub(value, 1, sep - 1))
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
local peak = tonumber(redis.call('GET', KEYS[2]) or '0')
if total > peak then peak = total end
redis.call('SET', KEYS[2], peak, 'PX', ARGV[6])
local publish = 0
if redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[5]) then
  if redis.call('GET', KEYS[3]) ~= tostring(total) then
    redis.call('SET', KEYS[3], total, 'PX', ARGV[6])
    publish = 1
  end
end
return {total, peak, publish}
"""

_PFADD_CHUNK = 1000


class RedisBackend:
    """Sequence numbers, replay buffers (capped streams) and viewer counts in Redis.

    One reader task per process follows, with one blocking XREAD, the stream of every room
    that has subscribers here, and hands each entry's already-encoded text to the hub.
    A room added while the read is blocked wakes it through a small per-process stream."""

    def __init__(
        self, redis: Redis, config: RealtimeConfig | None = None, *, block_ms: int = 1000
    ) -> None:
        self._redis = redis
        self._config = config or RealtimeConfig()
        self._block_ms = block_ms
        self._process = uuid.uuid4().hex
        self._prefix = self._config.key_prefix
        self._wake_key = f"{self._prefix}:wake:{self._process}"
        self._wake_id = "0-0"
        self._positions: dict[str, int] = {}
        self._recent: dict[str, deque[Message]] = {}
        self._starting: dict[str, asyncio.Future[None]] = {}
        self._stream_rooms: dict[bytes, str] = {}
        self._pending_ids: dict[str, set[str]] = {}
        self._reported: set[str] = set()
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self._deliver: Callable[[str, Message], None] = lambda _room, _message: None
        self._resync: Callable[[str], None] = lambda _room: None
        self._publish = redis.register_script(_PUBLISH)
        self._viewers = redis.register_script(_VIEWERS)
        self._ttl_ms = int(self._config.room_ttl * 1000)

    def _key(self, room_id: str, kind: str) -> str:
        # The hash tag keeps a room's keys in one Redis Cluster slot, as its scripts need.
        return f"{self._prefix}:{{{room_id}}}:{kind}"

    async def start(
        self, deliver: Callable[[str, Message], None], resync: Callable[[str], None]
    ) -> None:
        self._deliver = deliver
        self._resync = resync
        self._closing = False
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read_forever())

    async def close(self) -> None:
        self._closing = True
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.delete(self._wake_key)
            for room_id in self._reported:
                pipe.hdel(self._key(room_id, "viewers"), self._process)
            await pipe.execute()
        except Exception:  # best effort: the fields expire anyway
            log.warning("realtime backend cleanup failed", exc_info=True)

    async def publish(self, room_id: str, tail: str) -> int:
        seq = await self._publish(
            keys=[self._key(room_id, "seq"), self._key(room_id, "log")],
            args=[tail, self._config.replay_size, self._ttl_ms],
        )
        return int(seq)

    async def current_seq(self, room_id: str) -> int:
        # A watched room's delivery point is known here: a join costs no Redis round trip,
        # which matters when thousands of viewers arrive at once.
        position = self._positions.get(room_id)
        return position if position is not None else await self.latest_seq(room_id)

    async def latest_seq(self, room_id: str) -> int:
        raw = await self._redis.get(self._key(room_id, "seq"))
        return int(raw or 0)

    async def replay(self, room_id: str, after_seq: int, current: int) -> list[Message] | None:
        if after_seq >= current:
            return []
        recent = self._recent.get(room_id)
        if recent and recent[0].seq is not None and recent[0].seq <= after_seq + 1:
            return [m for m in recent if m.seq is not None and after_seq < m.seq <= current]
        entries: Any = await self._redis.xrange(self._key(room_id, "log"), min=f"{after_seq + 1}-0")
        messages = [_message(entry_id, fields) for entry_id, fields in entries]
        if not messages or messages[0].seq != after_seq + 1:
            return None
        return messages

    async def watch(self, room_id: str) -> None:
        if room_id in self._positions:
            return
        # Joins that arrive together for a new room share one start-up.
        starting = self._starting.get(room_id)
        if starting is None:
            starting = self._starting[room_id] = asyncio.ensure_future(self._start_watch(room_id))
            starting.add_done_callback(lambda _: self._starting.pop(room_id, None))
        await asyncio.shield(starting)

    async def _start_watch(self, room_id: str) -> None:
        raw = await self._redis.get(self._key(room_id, "seq"))
        # Everything after the current sequence reaches the hub; a joiner reads the sequence
        # only after this, so nothing it needs is skipped.
        self._positions[room_id] = int(raw or 0)
        self._recent[room_id] = deque(maxlen=self._config.replay_size)
        self._stream_rooms[self._key(room_id, "log").encode()] = room_id
        pipe = self._redis.pipeline(transaction=False)
        pipe.xadd(self._wake_key, {"w": "1"}, maxlen=1)
        pipe.pexpire(self._wake_key, 3_600_000)
        await pipe.execute()

    def unwatch(self, room_id: str) -> None:
        if self._positions.pop(room_id, None) is not None:
            self._stream_rooms.pop(self._key(room_id, "log").encode(), None)
            self._recent.pop(room_id, None)

    async def _read_forever(self) -> None:
        failures = 0
        wake = self._wake_key.encode()
        # redis-py may turn a cancellation that races its socket timeout into a retried
        # command, so the loop also checks a flag; a blocked read ends within `block_ms`.
        while not self._closing:
            streams: dict[Any, Any] = {self._wake_key: self._wake_id}
            for room_id, seq in self._positions.items():
                streams[self._key(room_id, "log")] = f"{seq}-0"
            try:
                response: Any = await self._redis.xread(streams, count=1000, block=self._block_ms)
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._closing:
                    return
                failures += 1
                log.warning("realtime stream read failed", exc_info=True)
                await asyncio.sleep(min(0.1 * 2**failures, 5.0))  # back off while Redis is away
                continue
            failures = 0
            for stream, entries in response or ():
                if stream == wake:
                    self._wake_id = entries[-1][0].decode()
                    continue
                room = self._stream_rooms.get(stream)
                if room is not None:
                    self._dispatch(room, entries)

    def _dispatch(self, room_id: str, entries: list[Any]) -> None:
        last = self._positions.get(room_id)
        if last is None:
            return
        for entry_id, fields in entries:
            message = _message(entry_id, fields)
            seq = message.seq
            assert seq is not None
            if seq <= last:
                continue  # already delivered before the room was re-watched
            if seq > last + 1:
                # The reader fell behind the capped stream: those viewers have a hole.
                self._resync(room_id)
            last = seq
            self._positions[room_id] = seq
            recent = self._recent.get(room_id)
            if recent is not None:
                recent.append(message)
            self._deliver(room_id, message)

    def note_viewer(self, room_id: str, viewer_id: str | None, local_count: int) -> None:
        if viewer_id is not None:
            self._pending_ids.setdefault(room_id, set()).add(viewer_id)

    async def _flush_ids(self, room_id: str) -> None:
        ids = sorted(self._pending_ids.pop(room_id, ()))
        if not ids:
            return
        key = self._key(room_id, "unique")
        pipe = self._redis.pipeline(transaction=False)
        for start in range(0, len(ids), _PFADD_CHUNK):
            pipe.pfadd(key, *ids[start : start + _PFADD_CHUNK])
        pipe.pexpire(key, self._ttl_ms)
        await pipe.execute()

    async def report_viewers(self, counts: dict[str, int]) -> list[tuple[str, int]]:
        interval_ms = int(self._config.viewers_interval * 1000)
        changed = []
        for room_id, count in counts.items():
            await self._flush_ids(room_id)
            total, _peak, publish = await self._viewers(
                keys=[
                    self._key(room_id, "viewers"),
                    self._key(room_id, "peak"),
                    self._key(room_id, "viewers_sent"),
                    self._key(room_id, "viewers_tick"),
                ],
                args=[
                    self._process,
                    count,
                    int(time.time() * 1000),
                    3 * interval_ms,
                    max(1, interval_ms - 50),  # a little short, so each tick can win the lock
                    self._ttl_ms,
                ],
            )
            if count:
                self._reported.add(room_id)
            else:
                self._reported.discard(room_id)
            if int(publish):
                changed.append((room_id, int(total)))
        return changed

    async def viewer_stats(self, room_id: str, local: int) -> ViewerStats:
        await self._flush_ids(room_id)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(self._key(room_id, "viewers"))
        pipe.get(self._key(room_id, "peak"))
        pipe.pfcount(self._key(room_id, "unique"))
        fields, peak, unique = await pipe.execute()
        now_ms = int(time.time() * 1000)
        total = local
        for field, value in fields.items():
            if field.decode() == self._process:
                continue  # this process's own count is the live one, not the last report
            count, _, expires = value.decode().partition(":")
            if int(expires) >= now_ms:
                total += int(count)
        return ViewerStats(now=total, peak=max(int(peak or 0), total), unique=int(unique))


def _message(entry_id: bytes, fields: dict[bytes, bytes]) -> Message:
    return Message(int(entry_id.split(b"-", 1)[0]), fields[b"m"].decode())
