"""The settings' rate limits over the shared counters, without HTTP: a memory store, a fixed
clock and the rules a test names."""

from __future__ import annotations

import pytest

from minilogin.core.errors import RateLimited
from minilogin.login.limits import Limits
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.storage.ephemeral.records import RateLimiter

RULES: dict[str, tuple[int, float] | None] = {"scan.ip": (2, 60.0), "off": None}
NOW = 6000.0 + 45  # 45 s into a minute


@pytest.fixture
async def limits() -> Limits:
    return Limits(RateLimiter(MemoryStore()), RULES.__getitem__, lambda: NOW)


async def test_attempts_beyond_the_rule_wait_for_the_window_to_end(limits: Limits) -> None:
    await limits.check("scan.ip", "10.0.0.1")
    await limits.check("scan.ip", "10.0.0.1")

    with pytest.raises(RateLimited) as refused:
        await limits.check("scan.ip", "10.0.0.1")
    assert refused.value.params["retry_after"] == pytest.approx(15.0)
    await limits.check("scan.ip", "10.0.0.2")  # each subject counts alone


async def test_failures_refuse_only_once_counted_up_to_the_limit(limits: Limits) -> None:
    await limits.check_failures("scan.ip", "guesser")
    await limits.count_failure("scan.ip", "guesser")
    await limits.check_failures("scan.ip", "guesser")  # one failure of two allowed
    await limits.count_failure("scan.ip", "guesser")

    with pytest.raises(RateLimited):
        await limits.check_failures("scan.ip", "guesser")


async def test_a_rule_turned_off_never_refuses(limits: Limits) -> None:
    for _ in range(10):
        await limits.check("off", "anyone")
        await limits.count_failure("off", "anyone")
    await limits.check_failures("off", "anyone")
