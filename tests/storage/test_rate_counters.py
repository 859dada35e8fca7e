"""Rate-limit counters shared by processes (storage/rate_counters.py): in the database (both
back-ends) and in Redis. Each behaves as the in-memory counter does, counts every hit when two
"processes" (two engines, two Redis clients) count the same key at once, and takes any key a
client can send."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.rate_limiter import Limiter, MemoryLimiter, Rule
from talentfed.storage import rate_counters
from talentfed.storage.db import create_engine, session_factory
from talentfed.storage.models import RateLimitCounter
from talentfed.storage.rate_counters import DatabaseLimiter, RedisLimiter
from talentfed.web.rate_limits import counter_for
from tests.conftest import IN_CI
from tests.test_rate_limiter import Clock

REDIS_URL = "redis://127.0.0.1:6379/0"
HOSTILE_KEY = "\x00" + "\ud800" + "é" * 50_000  # a NUL, a lone surrogate, 100 KB


def a_rule(limit: int = 5, period: float = 60.0) -> Rule:
    """A rule of its own per test: Redis is shared by every test run on this machine."""
    return Rule(f"test {uuid.uuid4().hex}", limit, period)


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        message = f"Redis at {REDIS_URL} is not reachable: {exc}"
        if IN_CI:
            pytest.fail(message + " (.ci/run starts it)", pytrace=False)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture(params=["database", "redis"])
async def shared(
    request: pytest.FixtureRequest, engine: AsyncEngine
) -> AsyncIterator[Callable[..., Limiter]]:
    """A factory of limiters that share their counts, as the node's processes do."""
    made: list[Limiter] = []
    engines: list[AsyncEngine] = []

    def make(clock: Callable[[], float]) -> Limiter:
        if request.param == "redis":
            limiter: Limiter = RedisLimiter(request.getfixturevalue("redis_url"), clock)
        else:
            # Another engine on the same database: another process's connections.
            other = create_engine(engine.url.render_as_string(hide_password=False))
            engines.append(other)
            limiter = DatabaseLimiter(session_factory(other), clock)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.close()
    for other in engines:
        await other.dispose()


async def test_a_window_counts_to_its_limit_then_starts_over(shared: Callable[..., Limiter]) -> None:
    clock = Clock()
    limiter, rule = shared(clock), a_rule()
    windows = [await limiter.hit(rule, "a") for _ in range(6)]
    assert [w.count for w in windows] == [1, 2, 3, 4, 5, 6]
    assert [w.exceeded for w in windows] == [False] * 5 + [True]
    # Redis keeps the time left (in milliseconds) rather than the moment the window ends.
    assert all(abs(w.resets_at - (clock.now + 60)) < 0.05 for w in windows)
    assert (await limiter.peek(rule, "a")).count == 6
    assert (await limiter.peek(rule, "b")).count == 0
    await limiter.forget(rule, "a")
    assert (await limiter.hit(rule, "a")).count == 1


async def test_an_ended_window_starts_over_at_the_next_hit(engine: AsyncEngine) -> None:
    """On the clock the database limiter is given (Redis expires keys on its own clock)."""
    clock, rule = Clock(), a_rule()
    limiter = DatabaseLimiter(session_factory(engine), clock)
    for _ in range(5):
        await limiter.hit(rule, "a")
    clock.now += 61
    assert (await limiter.peek(rule, "a")).count == 0
    window = await limiter.hit(rule, "a")
    assert (window.count, window.resets_at) == (1, clock.now + 60)


async def test_redis_forgets_an_ended_window(redis_url: str) -> None:
    limiter, rule = RedisLimiter(redis_url), a_rule(period=0.3)
    try:
        assert [(await limiter.hit(rule, "a")).count for _ in range(3)] == [1, 2, 3]
        await asyncio.sleep(0.5)
        assert (await limiter.peek(rule, "a")).count == 0
        assert (await limiter.hit(rule, "a")).count == 1
    finally:
        await limiter.close()


async def test_two_processes_counting_one_key_at_once_lose_no_hit(shared: Callable[..., Limiter]) -> None:
    first, second, rule = shared(Clock()), shared(Clock()), a_rule(limit=1000)
    windows = await asyncio.gather(*(limiter.hit(rule, "a") for limiter in (first, second) * 40))
    assert sorted(w.count for w in windows) == list(range(1, 81))
    assert (await first.peek(rule, "a")).count == 80


async def test_any_key_a_client_sends_is_counted(shared: Callable[..., Limiter]) -> None:
    limiter, rule = shared(Clock()), a_rule()
    assert [(await limiter.hit(rule, HOSTILE_KEY)).count for _ in range(2)] == [1, 2]
    assert (await limiter.peek(rule, HOSTILE_KEY[:-1])).count == 0


async def test_ended_windows_are_deleted_now_and_then(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rate_counters, "PRUNE_EVERY", 10)
    clock, rule = Clock(), a_rule()
    limiter = DatabaseLimiter(session_factory(engine), clock)
    for n in range(9):
        await limiter.hit(rule, f"client {n}")
    clock.now += 61
    await limiter.hit(rule, "the tenth")  # the tenth hit deletes the nine ended windows
    async with session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(RateLimitCounter)) == 1


async def test_the_counter_is_chosen_by_back_end_and_cache(
    config: Config, engine: AsyncEngine, redis_url: str
) -> None:
    import dataclasses

    sessions = session_factory(engine)
    chosen = counter_for(config, sessions)
    assert isinstance(chosen, MemoryLimiter if config.is_sqlite else DatabaseLimiter)
    cached = dataclasses.replace(config, cache=dataclasses.replace(config.cache, url=redis_url))
    redis_counter = counter_for(cached, sessions)
    try:
        assert isinstance(redis_counter, RedisLimiter)
    finally:
        await redis_counter.close()


def test_redis_is_an_optional_extra() -> None:
    """Importing the counters does not import redis: only a [cache] url does."""
    import subprocess
    import sys

    code = "import sys, talentfed.web.app; print('redis' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert result.stdout.strip() == "False", result.stderr
