"""The mini programs' access tokens, shared by every instance through the ephemeral store.

Tokens come from WeChat's ``getStableAccessToken`` (``POST cgi-bin/stable_token``). In its
normal mode WeChat hands out the same token while it is valid (and a new one in its last five
minutes), so instances that each ask get the same answer, and so does any other system that
uses the same AppID. Its force-refresh mode invalidates the previous token at once, works at
most every 30 s and 20 times a day ("强制刷新模式每天限用20次且需间隔30秒"), and is used only
as a last resort.

When WeChat rejects a token (40001, 40014, 42001: another system force-refreshed it, or it
expired early), the caller hands it back with ``get(app, rejected=token)``:

1. the token is marked rejected (``wechat:token-rejected:{name}:{hash}``, as long as a token
   lives) and dropped from the cache, so no instance serves it again;
2. WeChat is asked in normal mode, which answers the current token: the one whoever
   force-refreshed now holds. That ends a "token war" with another system without a forced
   refresh, which would invalidate theirs in turn;
3. only when normal mode answers the rejected token again is a forced refresh made, counted per
   day (``wechat:token-forced:{name}:{day}``) and spaced 30 s (``wechat:token-forced-at:{name}``)
   across instances; past either limit the caller gets ``wechat_token_refresh_limited`` (retry
   later) rather than a token known to be bad.

The cache keeps ``{"token", "expires_at", "refresh_at"}`` under
``wechat:token:{appid}:{fingerprint of the AppSecret}`` for as long as the token lives, and
refreshes it ``refresh_margin`` seconds before it expires. One refresh per mini program is in
flight at a time: one shared task within the process, and ``wechat:token-lock:{same}`` (taken
with ``add``) across instances. Whoever does not hold
the lock re-reads the cache until the holder has written the new token.

Each instance also holds the last entry it read or wrote, parsed, and answers from it without
reading the store until it is due for a refresh (a call to ``getPhoneNumber`` then costs no
store round trip). A token that another instance found rejected is served here until WeChat
rejects it here too: the client then hands it back and retries once with the current token, as
it does for any rejection, at the cost of that one refused call.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from minilogin.observability import metrics
from minilogin.storage.ephemeral import keys
from minilogin.storage.ephemeral.base import EphemeralStore
from minilogin.wechat.errors import (
    WeChatError,
    bad_response,
    json_object,
    raise_for_errcode,
    redact_http_logs,
    send,
)
from minilogin.wechat.transport import WeChatHttp
from minilogin.wechat.types import MiniProgram


@dataclass(frozen=True, slots=True)
class CachedToken:
    token: str
    expires_at: float
    refresh_at: float

    def dump(self) -> str:
        return json.dumps(
            {"token": self.token, "expires_at": self.expires_at, "refresh_at": self.refresh_at}
        )

    @classmethod
    def load(cls, raw: str | None) -> CachedToken | None:
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return cls(str(data["token"]), float(data["expires_at"]), float(data["refresh_at"]))
        except (ValueError, KeyError, TypeError):
            return None


#: A forced refresh works this many times a day, and at most once in this many seconds.
FORCE_PER_DAY = 20
FORCE_INTERVAL = 30.0
#: How long a rejected token is remembered: no token lives longer.
REJECTED_TTL = 7200.0


class AccessTokenCache:
    """``get`` answers a token for a mini program, asking WeChat only when none is cached, the
    cached one is about to expire, or WeChat rejected it.

    ``fetches`` counts the ``stable_token`` calls this instance made, ``forced`` those in
    force-refresh mode."""

    def __init__(
        self,
        store: EphemeralStore,
        http: WeChatHttp,
        base_url: str,
        *,
        refresh_margin: float = 300,
        clock: Callable[[], float] = time.time,
        lock_ttl: float = 15.0,
        poll_interval: float = 0.05,
    ) -> None:
        self._store = store
        self._http = http
        self._url = f"{base_url.rstrip('/')}/cgi-bin/stable_token"
        self._margin = refresh_margin
        self._clock = clock
        self._lock_ttl = lock_ttl
        self._poll = poll_interval
        # One refresh per mini program in this process; every caller that needs it awaits the same
        # task, so a failure reaches them all at once instead of one timeout after another.
        self._inflight: dict[str, asyncio.Task[str]] = {}
        # The entry last read or written under each key, parsed.
        self._held: dict[str, CachedToken] = {}
        self.fetches = 0
        self.forced = 0
        redact_http_logs()

    async def get(self, app: MiniProgram, *, rejected: str | None = None) -> str:
        """A token for ``app``; never ``rejected``, the token WeChat just refused."""
        key = token_key(app)
        if rejected is not None:
            self._held.pop(key, None)
            await self._reject(app, key, rejected)
        elif (held := self._held.get(key)) is not None and self._answers(held, fresh=True):
            return held.token
        cached = await self._read(key)
        if cached is not None and self._answers(cached, fresh=True):
            return cached.token
        return await asyncio.shield(self._join(app, key))

    async def _reject(self, app: MiniProgram, key: str, token: str) -> None:
        await self._store.set(rejected_key(app, token), "1", REJECTED_TTL)
        raw = await self._store.get(key)
        cached = CachedToken.load(raw)
        if raw is not None and cached is not None and cached.token == token:
            # Only if it still holds that token: another instance may have replaced it.
            await self._store.compare_and_set(key, raw, "rejected", 1.0)

    def _join(self, app: MiniProgram, key: str) -> asyncio.Task[str]:
        running = self._inflight.get(key)
        if running is not None and not running.done():
            return running
        task = asyncio.create_task(self._refresh(app, key))
        self._inflight[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))
        return task

    def _forget(self, key: str, task: asyncio.Task[str]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # every waiter has seen it; keep asyncio from reporting it again

    def _answers(self, cached: CachedToken, *, fresh: bool) -> bool:
        """Whether ``cached`` answers a caller: alive, and not yet due for a refresh when
        ``fresh`` is asked. (Rejected tokens never stay cached.)"""
        now = self._clock()
        if now >= cached.expires_at:
            return False
        return not fresh or now < cached.refresh_at

    async def _refresh(self, app: MiniProgram, key: str) -> str:
        lock = lock_key(app)
        owner = secrets.token_hex(8)
        while True:
            if await self._store.add(lock, owner, self._lock_ttl):
                try:
                    cached = await self._read(key)
                    if cached is not None and self._answers(cached, fresh=True):
                        return cached.token
                    return await self._renew(app, key)
                finally:
                    if await self._store.get(lock) == owner:
                        await self._store.delete(lock)
            # Another instance is refreshing. A token still alive serves a caller that only
            # wanted a fresher one; the others wait for the holder's token.
            cached = await self._read(key)
            if cached is not None and self._answers(cached, fresh=False):
                return cached.token
            await asyncio.sleep(self._poll)

    async def _renew(self, app: MiniProgram, key: str) -> str:
        """Normal mode first; a forced refresh only when it answers a rejected token."""
        token, expires_in = await self._fetch(app, force=False)
        if await self._store.get(rejected_key(app, token)) is not None:
            await self._may_force(app)
            token, expires_in = await self._fetch(app, force=True)
        now = self._clock()
        # A token handed out near the end of its life must not be due for a refresh at once,
        # or every call would ask WeChat again.
        refresh_in = max(expires_in - self._margin, expires_in / 2)
        cached = CachedToken(token, now + expires_in, now + refresh_in)
        await self._store.set(key, cached.dump(), expires_in)
        self._held[key] = cached
        return token

    async def _may_force(self, app: MiniProgram) -> None:
        """Count a forced refresh against WeChat's limits, or refuse it."""
        api = "stable_token"
        name = _name(app)
        if not await self._store.add(keys.wechat_token_forced_at(name), "1", FORCE_INTERVAL):
            raise WeChatError(
                "wechat_token_refresh_limited",
                "WeChat rejected the access token again within 30 s of a forced refresh; "
                "another system may be refreshing it too",
                api=api,
            )
        day = int(self._clock() // 86400)
        if await self._store.incr(keys.wechat_token_forced(name, day), 86400) > FORCE_PER_DAY:
            raise WeChatError(
                "wechat_token_refresh_limited",
                f"The {FORCE_PER_DAY} forced refreshes of the access token a day are used up",
                api=api,
            )

    async def _fetch(self, app: MiniProgram, *, force: bool) -> tuple[str, int]:
        api = "stable_token"
        payload = {
            "grant_type": "client_credential",
            "appid": app.app_id,
            "secret": app.app_secret,
            "force_refresh": force,
        }
        self.fetches += 1
        self.forced += force
        metrics.token_refresh(app.app_id, forced=force)
        response = await send(self._http, "POST", self._url, api, json=payload)
        body = json_object(response, api)
        raise_for_errcode(body, api)
        token = body.get("access_token")
        expires_in = body.get("expires_in")
        if not isinstance(token, str) or not token:
            raise bad_response(api, "has no access_token")
        if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
            raise bad_response(api, "has no expires_in")
        return token, expires_in

    async def _read(self, key: str) -> CachedToken | None:
        cached = CachedToken.load(await self._store.get(key))
        if cached is None:
            self._held.pop(key, None)
        else:
            self._held[key] = cached
        return cached


def token_key(app: MiniProgram) -> str:
    return keys.wechat_token(_name(app))


def lock_key(app: MiniProgram) -> str:
    return keys.wechat_token_lock(_name(app))


def rejected_key(app: MiniProgram, token: str) -> str:
    return keys.wechat_token_rejected(_name(app), hashlib.sha256(token.encode()).hexdigest()[:16])


@functools.lru_cache(maxsize=1024)
def _name(app: MiniProgram) -> str:
    """The AppID and a fingerprint of the AppSecret: a token fetched with the right secret
    must not serve someone who configured the same AppID with a wrong one."""
    fingerprint = hashlib.sha256(f"{app.app_id}\n{app.app_secret}".encode()).hexdigest()[:16]
    return f"{app.app_id}:{fingerprint}"
