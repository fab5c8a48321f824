"""The mini programs' access tokens, shared by every instance through the ephemeral store.

Tokens come from WeChat's ``getStableAccessToken`` (``POST cgi-bin/stable_token``). In its
normal mode WeChat hands out the same token until five minutes before it expires, so
instances that each ask get the same answer; its force-refresh mode invalidates the previous
token at once (and works at most every 30 s, 20 times a day), so it is used only when WeChat
has just rejected the cached token.

The cache keeps ``{"token", "expires_at", "refresh_at"}`` under
``wechat:token:{appid}:{fingerprint of the AppSecret}`` for as long as the token lives, and
refreshes it ``refresh_margin`` seconds before it expires. One refresh per mini program is in
flight at a time: one shared task within the process, and ``wechat:token-lock:{same}`` (taken
with ``add``) across instances. Whoever does not hold
the lock re-reads the cache until the holder has written the new token.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from minilogin.observability import metrics
from minilogin.storage.ephemeral.base import EphemeralStore
from minilogin.wechat.client import MiniProgram
from minilogin.wechat.errors import (
    bad_response,
    json_object,
    raise_for_errcode,
    redact_http_logs,
    send,
)


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


class AccessTokenCache:
    """``get`` answers a token for a mini program, asking WeChat only when none is cached, the
    cached one is about to expire, or WeChat rejected it.

    ``fetches`` counts the ``stable_token`` calls this instance made."""

    def __init__(
        self,
        store: EphemeralStore,
        http: httpx.AsyncClient,
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
        self._inflight: dict[str, tuple[asyncio.Task[str], bool]] = {}
        self.fetches = 0
        redact_http_logs()

    async def get(
        self, app: MiniProgram, *, force_refresh: bool = False, rejected: str | None = None
    ) -> str:
        """A token for ``app``. With ``force_refresh`` the token WeChat ``rejected`` (by default
        the one cached now) is replaced, unless someone replaced it already: then the new one
        is the answer and WeChat is not asked again."""
        key = token_key(app)
        cached = await self._read(key)
        if force_refresh and rejected is None and cached is not None:
            rejected = cached.token
        while True:
            if cached is not None and self._answers(cached, force_refresh, rejected, fresh=True):
                return cached.token
            task, forced = self._join(app, key, force_refresh, rejected)
            token = await asyncio.shield(task)
            # A refresh that was not forced may hand back the very token that was rejected;
            # then one forced refresh follows, and its answer is final.
            if not force_refresh or forced or token != rejected:
                return token
            cached = await self._read(key)

    def _join(
        self, app: MiniProgram, key: str, force: bool, rejected: str | None
    ) -> tuple[asyncio.Task[str], bool]:
        running = self._inflight.get(key)
        if running is not None and not running[0].done():
            return running
        task = asyncio.create_task(self._refresh(app, key, force, rejected))
        self._inflight[key] = (task, force)
        task.add_done_callback(lambda done: self._forget(key, done))
        return task, force

    def _forget(self, key: str, task: asyncio.Task[str]) -> None:
        running = self._inflight.get(key)
        if running is not None and running[0] is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # every waiter has seen it; keep asyncio from reporting it again

    def _answers(
        self, cached: CachedToken, force: bool, rejected: str | None, *, fresh: bool
    ) -> bool:
        """Whether ``cached`` answers the caller: alive, not the token WeChat rejected, and
        not yet due for a refresh when ``fresh`` is asked."""
        now = self._clock()
        if now >= cached.expires_at:
            return False
        if force:
            return rejected is not None and cached.token != rejected
        return not fresh or now < cached.refresh_at

    async def _refresh(self, app: MiniProgram, key: str, force: bool, rejected: str | None) -> str:
        lock = lock_key(app)
        owner = secrets.token_hex(8)
        while True:
            if await self._store.add(lock, owner, self._lock_ttl):
                try:
                    cached = await self._read(key)
                    if cached is not None and self._answers(cached, force, rejected, fresh=True):
                        return cached.token
                    return await self._fetch(app, key, force)
                finally:
                    if await self._store.get(lock) == owner:
                        await self._store.delete(lock)
            # Another instance is refreshing. A token still alive serves a caller that only
            # wanted a fresher one; the others wait for the holder's token.
            cached = await self._read(key)
            if cached is not None and self._answers(cached, force, rejected, fresh=False):
                return cached.token
            await asyncio.sleep(self._poll)

    async def _fetch(self, app: MiniProgram, key: str, force: bool) -> str:
        api = "stable_token"
        payload = {
            "grant_type": "client_credential",
            "appid": app.app_id,
            "secret": app.app_secret,
            "force_refresh": force,
        }
        self.fetches += 1
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
        now = self._clock()
        # A token handed out near the end of its life must not be due for a refresh at once,
        # or every call would ask WeChat again.
        refresh_in = max(expires_in - self._margin, expires_in / 2)
        cached = CachedToken(token, now + expires_in, now + refresh_in)
        await self._store.set(key, cached.dump(), expires_in)
        return token

    async def _read(self, key: str) -> CachedToken | None:
        return CachedToken.load(await self._store.get(key))


def token_key(app: MiniProgram) -> str:
    return f"wechat:token:{_name(app)}"


def lock_key(app: MiniProgram) -> str:
    return f"wechat:token-lock:{_name(app)}"


def _name(app: MiniProgram) -> str:
    """The AppID and a fingerprint of the AppSecret: a token fetched with the right secret
    must not serve someone who configured the same AppID with a wrong one."""
    fingerprint = hashlib.sha256(f"{app.app_id}\n{app.app_secret}".encode()).hexdigest()[:16]
    return f"{app.app_id}:{fingerprint}"
