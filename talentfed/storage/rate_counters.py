"""Rate-limit counters every process of a node shares: in the database, or in Redis.

Both count as `rate_limiter.MemoryLimiter` does (a fixed window per key, starting at its first
hit), and both do a hit in one atomic step, so two processes counting the same client at once
never lose a hit. A key is stored as the SHA-256 of its rule's name and itself: bounded and
free of anything a database refuses, whatever a client sent (a sign-in name, say).

- `DatabaseLimiter`: one upsert per hit into `rate_limit_counters`; ended windows are deleted
  now and then. What a node on PostgreSQL uses without `[cache] url`.
- `RedisLimiter`: INCR with an expiry, in a Lua script; Redis forgets ended windows itself.
  Needs the `redis` package (the `redis` extra), imported only when `[cache] url` is set.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import case, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.rate_limiter import Rule, Window, window_ending
from talentfed.storage.db import write_lock
from talentfed.storage.dialects import insert_for
from talentfed.storage.models import RateLimitCounter

PRUNE_EVERY = 1000  # hits between two deletions of ended windows, per process


def counter_key(rule: Rule, key: str) -> str:
    return hashlib.sha256(f"{rule.name}\0{key}".encode("utf-8", "surrogatepass")).hexdigest()


class DatabaseLimiter:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], float] = time.time
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self._hits = 0

    async def hit(self, rule: Rule, key: str) -> Window:
        now = self.clock()
        ended = RateLimitCounter.resets_at <= now
        async with write_lock(self.sessions), self.sessions() as session, session.begin():
            upsert = insert_for(session)(RateLimitCounter).values(
                key=counter_key(rule, key), resets_at=now + rule.period, hits=1
            )
            # Both SETs read the row as it was: a window that ended starts over at this hit.
            upsert = upsert.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "hits": case((ended, 1), else_=RateLimitCounter.hits + 1),
                    "resets_at": case((ended, now + rule.period), else_=RateLimitCounter.resets_at),
                },
            ).returning(RateLimitCounter.resets_at, RateLimitCounter.hits)
            resets_at, hits = (await session.execute(upsert)).one()
            self._hits += 1
            if self._hits % PRUNE_EVERY == 0:
                await session.execute(delete(RateLimitCounter).where(ended))
        return window_ending(rule, resets_at, hits, now)

    async def peek(self, rule: Rule, key: str) -> Window:
        now = self.clock()
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(RateLimitCounter.resets_at, RateLimitCounter.hits).where(
                        RateLimitCounter.key == counter_key(rule, key), RateLimitCounter.resets_at > now
                    )
                )
            ).one_or_none()
        resets_at, hits = row if row is not None else (now + rule.period, 0)
        return window_ending(rule, resets_at, hits, now)

    async def forget(self, rule: Rule, key: str) -> None:
        async with write_lock(self.sessions), self.sessions() as session, session.begin():
            await session.execute(
                delete(RateLimitCounter).where(RateLimitCounter.key == counter_key(rule, key))
            )

    async def close(self) -> None:
        """Nothing of its own to close: the sessions are the app's."""


# KEYS[1]: the counter; ARGV[1]: the window in milliseconds. Returns {hits, milliseconds left}.
_HIT = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {hits, left}
"""
REDIS_PREFIX = "talentfed:rate:"


class RedisLimiter:
    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url)
        self.clock = clock
        self._hit = self.redis.register_script(_HIT)

    async def hit(self, rule: Rule, key: str) -> Window:
        now = self.clock()
        hits, left = await self._hit(keys=[self._key(rule, key)], args=[math.ceil(rule.period * 1000)])
        return window_ending(rule, now + int(left) / 1000, int(hits), now)

    async def peek(self, rule: Rule, key: str) -> Window:
        now = self.clock()
        async with self.redis.pipeline(transaction=True) as pipe:
            hits, left = await pipe.get(self._key(rule, key)).pttl(self._key(rule, key)).execute()
        if hits is None or left < 0:
            return window_ending(rule, now + rule.period, 0, now)
        return window_ending(rule, now + int(left) / 1000, int(hits), now)

    async def forget(self, rule: Rule, key: str) -> None:
        await self.redis.delete(self._key(rule, key))

    async def close(self) -> None:
        await self.redis.aclose()

    @staticmethod
    def _key(rule: Rule, key: str) -> str:
        return REDIS_PREFIX + counter_key(rule, key)
