"""The rate limiter's windows: aligned to the clock, with the time left to wait."""

from __future__ import annotations

from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.storage.ephemeral.records import RateLimiter

WINDOW = 60.0


async def test_attempts_over_the_limit_wait_for_the_next_window() -> None:
    limiter = RateLimiter(MemoryStore())
    start = 6000.0  # the start of a window
    assert [await limiter.attempt("k", 2, WINDOW, start + 10) for _ in range(3)] == [0, 0, 50]
    assert await limiter.attempt("k", 2, WINDOW, start + WINDOW) == 0
    assert await limiter.attempt("other", 2, WINDOW, start + 10) == 0


async def test_failures_on_both_sides_of_a_window_edge_add_up() -> None:
    limiter = RateLimiter(MemoryStore())
    edge = 6000.0
    for _ in range(3):
        await limiter.attempt("k", 5, WINDOW, edge - 1)
    assert await limiter.exceeded("k", 5, WINDOW, edge + 1) == 0
    for _ in range(2):
        await limiter.attempt("k", 5, WINDOW, edge + 1)
    assert await limiter.exceeded("k", 5, WINDOW, edge + 1) == 59
    assert await limiter.exceeded("k", 5, WINDOW, edge + WINDOW + 1) == 0
