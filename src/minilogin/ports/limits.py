"""The rate limits' counters and back-off (``login/limits.py``)."""

from __future__ import annotations

from typing import Protocol


class AttemptCounter(Protocol):
    """Fixed-window counters of attempts, all instances together (``RateLimiter``)."""

    async def attempt(self, key: str, limit: int, window: float, now: float) -> float:
        """Count one attempt; the seconds until the next window when over ``limit``, else 0."""
        ...

    async def exceeded(self, key: str, limit: int, window: float, now: float) -> float:
        """Like ``attempt`` without counting."""
        ...


class FailureLimits(Protocol):
    """Back-off after failed attempts (wrong passwords), per rule of the settings."""

    async def check_failures(self, rule: str, subject: str) -> None:
        """``RateLimited`` while ``subject`` has failed too often under ``rule``."""
        ...

    async def count_failure(self, rule: str, subject: str) -> None: ...
