"""Rate limits backed by the `limits` library: in memory, or in Redis when configured so that
several API processes share one count."""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from liveloop.kit.errors import TooManyRequests


class RateLimiter:
    def __init__(self, redis_url: str | None = None) -> None:
        storage: Storage
        if redis_url:
            storage = RedisStorage(
                "async+" + redis_url if not redis_url.startswith("async+") else redis_url,
                implementation="redispy",
            )
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    @staticmethod
    def parse(rule: str) -> RateLimitItem:
        return parse(rule)

    async def allowed(self, rule: RateLimitItem, *key: str) -> bool:
        """True when one more hit would stay within the limit (does not count a hit)."""
        return bool(await self._limiter.test(rule, *key))

    async def hit(self, rule: RateLimitItem, *key: str) -> bool:
        """Count a hit; False when the limit was already reached."""
        return bool(await self._limiter.hit(rule, *key))

    async def retry_after(self, rule: RateLimitItem, *key: str) -> int:
        stats = await self._limiter.get_window_stats(rule, *key)
        return max(1, int(stats.reset_time - time.time()))

    async def enforce(self, rule: RateLimitItem, *key: str, detail: str) -> None:
        if not await self.hit(rule, *key):
            raise TooManyRequests(
                detail, headers={"Retry-After": str(await self.retry_after(rule, *key))}
            )

    async def reset(self) -> None:
        await self._storage.reset()
