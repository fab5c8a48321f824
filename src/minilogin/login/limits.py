"""Counting attempts against the rate limits of the settings (``config.RATE_LIMIT_DEFAULTS``).

Limits are fixed-window counters in the ephemeral store (``RateLimiter``), so every instance
sharing a Redis counts together; without Redis each process counts alone. Going over raises
``RateLimited`` with the seconds until the window ends (``Retry-After``, ``web/errors.py``).
"""

from __future__ import annotations

from minilogin.core.errors import RateLimited
from minilogin.wiring import Services


async def check(svc: Services, rule: str, subject: str) -> None:
    """Count one attempt of ``subject`` (an IP, a client_id) under ``rule``."""
    limit = svc.settings.rate_limit(rule)
    if limit is None:
        return
    wait = await svc.limiter.attempt(f"{rule}:{subject}", *limit, svc.clock())
    if wait:
        raise RateLimited("rate_limited", retry_after=wait)


async def check_failures(svc: Services, rule: str, subject: str) -> None:
    """Refuse ``subject`` while it has made too many failed attempts under ``rule``."""
    limit = svc.settings.rate_limit(rule)
    if limit is None:
        return
    wait = await svc.limiter.exceeded(f"{rule}:{subject}", *limit, svc.clock())
    if wait:
        raise RateLimited("rate_limited", retry_after=wait)


async def count_failure(svc: Services, rule: str, subject: str) -> None:
    limit = svc.settings.rate_limit(rule)
    if limit is not None:
        await svc.limiter.attempt(f"{rule}:{subject}", *limit, svc.clock())
