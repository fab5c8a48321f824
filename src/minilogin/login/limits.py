"""Counting attempts against the rate limits of the settings (``config.RATE_LIMIT_DEFAULTS``).

Limits are fixed-window counters in the ephemeral store (``RateLimiter``), so every instance
sharing a Redis counts together; without Redis each process counts alone. Going over raises
``RateLimited`` with the seconds until the window ends (``Retry-After``, ``web/errors.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from minilogin.core.errors import RateLimited
from minilogin.ports import AttemptCounter, Clock


class Limits:
    """The settings' rules over the shared counters; one per process (``wiring.py``)."""

    def __init__(
        self,
        counter: AttemptCounter,
        rule: Callable[[str], tuple[int, float] | None],
        clock: Clock,
    ) -> None:
        #: ``rule(name)``: its attempts and window, or ``None`` when it is off.
        self._counter = counter
        self._rule = rule
        self._clock = clock

    async def check(self, rule: str, subject: str) -> None:
        """Count one attempt of ``subject`` (an IP, a client_id) under ``rule``."""
        limit = self._rule(rule)
        if limit is None:
            return
        wait = await self._counter.attempt(f"{rule}:{subject}", *limit, self._clock())
        if wait:
            raise RateLimited("rate_limited", retry_after=wait)

    async def check_failures(self, rule: str, subject: str) -> None:
        """Refuse ``subject`` while it has made too many failed attempts under ``rule``."""
        limit = self._rule(rule)
        if limit is None:
            return
        wait = await self._counter.exceeded(f"{rule}:{subject}", *limit, self._clock())
        if wait:
            raise RateLimited("rate_limited", retry_after=wait)

    async def count_failure(self, rule: str, subject: str) -> None:
        limit = self._rule(rule)
        if limit is not None:
            await self._counter.attempt(f"{rule}:{subject}", *limit, self._clock())
