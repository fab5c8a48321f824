"""Backing off from WeChat errors that no retry cures.

A wrong AppSecret (40125, 40013), a server outside the mini program's IP allowlist (40164,
61004), an API the mini program may not call (48001) or a page the released mini program lacks
(41030) fail every call the same way until a person changes something. Asking WeChat again every
few seconds only fills the logs and spends quota, so after such an error the client answers the
same error without asking, for a delay that doubles with each failure (``BASE`` up to ``LIMIT``),
and asks again once it has passed: a fixed configuration recovers within minutes by itself.

Each *scope* fails on its own: the credentials of one mini program (every API), one API of it
(48001), one page and version of it (41030). The state changes are logged once each: when a
scope starts failing, when its error changes, when it recovers; not each refused call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from minilogin.wechat.errors import WeChatError

log = logging.getLogger("minilogin.wechat")

#: The first delay after a permanent error, and the longest one.
BASE = 2.0
LIMIT = 300.0


@dataclass(slots=True)
class _Failing:
    error: WeChatError
    failures: int
    until: float


class Backoff:
    """The scopes failing now, in this process (each instance learns WeChat's answer itself;
    one call per delay per instance is cheap)."""

    def __init__(self, clock: Callable[[], float], base: float = BASE, limit: float = LIMIT):
        self._clock = clock
        self._base = base
        self._limit = limit
        self._failing: dict[str, _Failing] = {}

    def check(self, scope: str) -> None:
        """Raise the scope's last error while its delay runs."""
        state = self._failing.get(scope)
        if state is not None and self._clock() < state.until:
            # A fresh error each time: raising one instance again would grow its traceback.
            error = state.error
            raise type(error)(
                error.code,
                error.detail or error.code,
                api=error.api,
                errcode=error.errcode,
                errmsg=error.errmsg,
            )

    def failed(self, scope: str, error: WeChatError) -> float:
        """Record a permanent error; returns how long the scope now waits."""
        state = self._failing.get(scope)
        failures = 1 if state is None else state.failures + 1
        delay = float(min(self._base * 2 ** (failures - 1), self._limit))
        if state is None or state.error.errcode != error.errcode:
            log.warning(
                "WeChat refuses %s: %s; not asking again for %.0f s, then up to every %.0f s",
                scope,
                error.detail or error.code,
                delay,
                self._limit,
            )
        self._failing[scope] = _Failing(error, failures, self._clock() + delay)
        return delay

    def succeeded(self, scope: str) -> None:
        if self._failing.pop(scope, None) is not None:
            log.info("WeChat accepts %s again", scope)

    def failing(self, scope: str) -> WeChatError | None:
        """The error a scope is backing off from, if any (for the console)."""
        state = self._failing.get(scope)
        return state.error if state is not None else None
