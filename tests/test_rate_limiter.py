"""The counter behind every rate limit: fixed windows per key, a clock we move by hand, and memory
that stays bounded whatever is thrown at it."""

from __future__ import annotations

from talentfed.rate_limiter import MemoryLimiter, Rule

FIVE = Rule("five per minute", 5, 60.0)
OTHER = Rule("two per hour", 2, 3600.0)


class Clock:
    """A clock the test moves: no sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def hit_a(limiter: MemoryLimiter, times: int) -> None:
    for _ in range(times):
        await limiter.hit(FIVE, "a")


async def test_a_window_counts_up_to_its_limit_then_is_exceeded() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    windows = [await limiter.hit(FIVE, "a") for _ in range(6)]
    assert [w.remaining for w in windows] == [4, 3, 2, 1, 0, 0]
    assert [w.exceeded for w in windows] == [False] * 5 + [True]
    assert windows[4].full and not windows[3].full
    assert {w.resets_at for w in windows} == {clock.now + 60}
    clock.now += 20.5
    assert (await limiter.peek(FIVE, "a")).retry_after == 40  # whole seconds, rounded up


async def test_keys_and_rules_count_apart() -> None:
    limiter = MemoryLimiter(clock=Clock())
    await hit_a(limiter, 6)
    assert (await limiter.hit(FIVE, "b")).count == 1
    assert (await limiter.hit(OTHER, "a")).count == 1
    assert (await limiter.peek(FIVE, "a")).exceeded


async def test_a_window_starts_over_once_its_period_has_passed() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    await hit_a(limiter, 6)
    clock.now += 59.9
    assert (await limiter.peek(FIVE, "a")).exceeded
    clock.now += 0.1
    assert (await limiter.peek(FIVE, "a")).count == 0
    fresh = await limiter.hit(FIVE, "a")
    assert (fresh.count, fresh.resets_at) == (1, clock.now + 60)


async def test_forget_starts_a_key_over_and_peek_counts_nothing() -> None:
    limiter = MemoryLimiter(clock=Clock())
    await hit_a(limiter, 3)
    assert (await limiter.peek(FIVE, "a")).count == 3
    assert (await limiter.peek(FIVE, "a")).count == 3
    await limiter.forget(FIVE, "a")
    await limiter.forget(FIVE, "never seen")
    assert (await limiter.peek(FIVE, "a")).count == 0


async def test_a_flood_of_distinct_keys_keeps_memory_bounded() -> None:
    limiter = MemoryLimiter(max_keys=100, clock=Clock())
    for n in range(10_000):
        await limiter.hit(FIVE, f"203.0.{n // 256}.{n % 256}")
        await limiter.hit(OTHER, f"made-up token {n}")
    assert limiter.keys_held() == 200  # 100 per rule
    # The newest keys are the ones kept, with their counts.
    assert (await limiter.peek(FIVE, "203.0.39.15")).count == 1
    assert (await limiter.peek(FIVE, "203.0.0.0")).count == 0


async def test_ended_windows_are_dropped_from_memory() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    for n in range(500):
        await limiter.hit(FIVE, f"key {n}")
        clock.now += 0.01
    await limiter.hit(OTHER, "long")
    assert limiter.keys_held() == 501
    clock.now += 60
    await limiter.peek(OTHER, "long")  # any call sweeps every rule's ended windows
    assert limiter.keys_held() == 1


async def test_a_clock_that_goes_back_does_not_keep_a_window_forever() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    await limiter.hit(FIVE, "first")
    clock.now -= 30  # the system clock was set back
    await limiter.hit(FIVE, "behind")  # its window ends before the one in front of it
    clock.now += 60  # "behind" has ended; "first", still at the front, has not
    assert (await limiter.peek(FIVE, "behind")).count == 0
    for _ in range(5):
        await limiter.hit(FIVE, "behind")
    assert not (await limiter.peek(FIVE, "behind")).exceeded
