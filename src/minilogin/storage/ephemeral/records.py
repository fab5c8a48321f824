"""Typed records kept in the ephemeral store: QR logins (with their scene index and status
channel), authorization codes, mini program sessions and rate-limit counters.

Each record is JSON under a namespaced key. QR logins change only through ``QRLogins.update``,
an optimistic compare-and-set loop, so two instances applying transitions to one login at once
can never both win; every change is then published on the login's channel.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import Any

from minilogin.core.errors import NotFound
from minilogin.core.grants import AuthorizationCode, IssuedTokens
from minilogin.core.qrlogin import MiniProgramSession, QRLogin, RequestContext, Scanner, Status
from minilogin.core.tokens import digest
from minilogin.storage.ephemeral import keys
from minilogin.storage.ephemeral.base import EphemeralStore
from minilogin.storage.errors import is_unavailable

log = logging.getLogger(__name__)

#: A QR login is kept a little past its deadline so late readers learn "expired", not "unknown".
AFTERLIFE = 300.0
#: How many stored texts of QR logins each ``QRLogins`` keeps decoded (``QRLogins._decode``).
DECODED = 4096


_QRLOGIN_FIELDS = tuple(field.name for field in fields(QRLogin))
_REQUEST_FIELDS = tuple(field.name for field in fields(RequestContext))
_SCANNER_FIELDS = tuple(field.name for field in fields(Scanner))


def _qrlogin_to_json(login: QRLogin) -> str:
    # Field by field rather than ``dataclasses.asdict``, which deep-copies every value and
    # took four fifths of this function's time (36 of 45 µs); a login is written at each step.
    data: dict[str, Any] = {name: getattr(login, name) for name in _QRLOGIN_FIELDS}
    data["request"] = {name: getattr(login.request, name) for name in _REQUEST_FIELDS}
    if login.scanner is not None:
        data["scanner"] = {name: getattr(login.scanner, name) for name in _SCANNER_FIELDS}
    return json.dumps(data, separators=(",", ":"))


def _qrlogin_from_json(text: str) -> QRLogin:
    data = json.loads(text)
    data["status"] = Status(data["status"])
    data["request"] = RequestContext(**data["request"])
    if data["scanner"] is not None:
        data["scanner"] = Scanner(**data["scanner"])
    data["match_choices"] = tuple(data.get("match_choices", ()))
    return QRLogin(**data)


def status_channel(login_id: str) -> str:
    return keys.qrlogin_events(login_id)


class QRLogins:
    """``ended`` is awaited once for each login that a transition makes terminal (consumed or
    cancelled; expiry is lazy and fires nothing): the code pool takes its scene back there.

    ``observe`` hears each step once: ``created``, each new status, and ``expired`` when the
    first reader notices the deadline has passed (``note_expired``)."""

    def __init__(
        self,
        store: EphemeralStore,
        clock: Callable[[], float],
        ended: Callable[[QRLogin], Awaitable[None]] | None = None,
        observe: Callable[[QRLogin, str], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._ended = ended
        self._observe = observe
        self._decoded: dict[str, QRLogin] = {}
        # Each login's last text decoded or written here, with the login it holds: a
        # caller's copy (``update``'s ``seen``) is then compared as the very text it came
        # from, not serialized again.
        self._texts: dict[str, tuple[QRLogin, str]] = {}

    def _decode(self, text: str) -> QRLogin:
        """The login a stored text holds. A waiting browser's every re-poll reads the same
        text until the login changes, and building the frozen dataclasses cost two thirds of
        the decoding (18 of 29 µs): the logins of the last ``DECODED`` texts are kept, keyed
        by the whole text, so a text decodes to what it always would (they are immutable)."""
        login = self._decoded.get(text)
        if login is None:
            login = _qrlogin_from_json(text)
            self._keep(text, login)
        return login

    def _keep(self, text: str, login: QRLogin) -> None:
        """Remember that ``text`` holds ``login``, both ways. A text this instance wrote is
        kept too: the waiters it is published to and the next transition's read then find
        it decoded."""
        if len(self._decoded) >= DECODED:
            del self._decoded[next(iter(self._decoded))]
        self._decoded[text] = login
        if login.id not in self._texts and len(self._texts) >= DECODED:
            del self._texts[next(iter(self._texts))]
        self._texts[login.id] = (login, text)

    def _text_of(self, login: QRLogin) -> str:
        """The stored text ``login`` was decoded from or written as; serialized when this
        ``QRLogins`` did neither (a copy of the caller's making)."""
        known = self._texts.get(login.id)
        return known[1] if known is not None and known[0] is login else _qrlogin_to_json(login)

    def _ttl(self, login: QRLogin) -> float:
        return max(1.0, login.expires_at - self._clock()) + AFTERLIFE

    async def create(self, login: QRLogin) -> bool:
        """Store a new login and claim its scene; ``False`` when the scene is taken."""
        ttl = self._ttl(login)
        if not await self._store.add(keys.qrlogin_scene(login.scene), login.id, ttl):
            return False
        await self._store.set(keys.qrlogin(login.id), _qrlogin_to_json(login), ttl)
        if self._observe is not None:
            self._observe(login, "created")
        return True

    async def get(self, login_id: str) -> QRLogin | None:
        text = await self._store.get(keys.qrlogin(login_id))
        if text is None:
            return None
        stored = self._decode(text)
        login = stored.current(self._clock())
        if login.status is not stored.status:
            await self.note_expired(login)
        return login

    async def note_expired(self, login: QRLogin) -> None:
        """Report ``login``'s expiry, the first time any instance notices it."""
        if self._observe is None or login.status is not Status.EXPIRED:
            return
        if await self._store.add(keys.qrlogin_expired(login.id), "1", AFTERLIFE):
            self._observe(login, "expired")

    async def find_by_scene(self, scene: str) -> QRLogin | None:
        login_id = await self._store.get(keys.qrlogin_scene(scene))
        return None if login_id is None else await self.get(login_id)

    async def update(
        self,
        login_id: str,
        change: Callable[[QRLogin], QRLogin],
        seen: QRLogin | None = None,
    ) -> QRLogin:
        """Apply a pure transition atomically and publish the result.

        ``change`` may raise to refuse; then nothing is written. When another writer got in
        between the read and the write, the transition is applied again to what it wrote.
        ``seen``, the login as the caller just read it, spares the first read: the write then
        compares against it, and reads only when the stored login is no longer that.
        """
        key = keys.qrlogin(login_id)
        if seen is not None and seen.id == login_id:
            written = await self._write(key, self._text_of(seen), change, trusted=False)
            if written is not None:
                return written
        while True:
            text = await self._store.get(key)
            if text is None:
                raise NotFound("qrlogin_not_found")
            written = await self._write(key, text, change, trusted=True)
            if written is not None:
                return written

    async def _write(
        self, key: str, text: str, change: Callable[[QRLogin], QRLogin], trusted: bool
    ) -> QRLogin | None:
        """``change`` applied to the login ``text`` and written over it; ``None`` when the
        stored login is no longer ``text``. Only a write trusts a caller's copy (not
        ``trusted``): a refusal, or no change, is then decided on the login as stored."""
        before = self._decode(text)
        try:
            after = change(before)
        except Exception:
            if trusted:
                raise
            return None
        if after == before:
            return after if trusted else None
        new_text = _qrlogin_to_json(after)
        if not await self._store.compare_and_set(key, text, new_text, self._ttl(after)):
            return None
        self._keep(new_text, after)
        if self._observe is not None and after.status is not before.status:
            self._observe(after, after.status.value)
        await self._after_change(after.id, new_text, after)
        return after

    async def _after_change(self, login_id: str, text: str, after: QRLogin) -> None:
        """Announce a change that is already written. Once the compare-and-set succeeded the
        change has happened, so a store that fails here must not turn it into a 503 that tells
        the client nothing changed: waiters re-read the login when their subscription comes
        back (and at every keep-alive), and an ended login's scene index lapses with the
        login's own lifetime."""
        try:
            await self._store.publish(status_channel(login_id), text)
            if self._ended is not None and after.status.terminal:
                await self._ended(after)
        except Exception as error:
            if not is_unavailable(error):
                raise
            log.warning(
                "QR login %s changed to %s; announcing it failed: %s",
                login_id,
                after.status.value,
                type(error).__name__,
            )

    async def retire_scene(self, login: QRLogin, ttl: float) -> None:
        """Keep the scene's index to ``login`` only ``ttl`` more seconds, so that a scan of
        its code reaches no login afterwards; unless the index already names another."""
        await self._store.compare_and_set(keys.qrlogin_scene(login.scene), login.id, login.id, ttl)

    def decode(self, message: str) -> QRLogin:
        return self._decode(message)


_GRANT_FIELDS = tuple(field.name for field in fields(AuthorizationCode))


class AuthorizationCodes:
    def __init__(self, store: EphemeralStore) -> None:
        self._store = store

    async def put(self, code: str, grant: AuthorizationCode, ttl: float) -> None:
        # Field by field, as a QR login is (``_qrlogin_to_json``): ``asdict`` deep-copies.
        data = {name: getattr(grant, name) for name in _GRANT_FIELDS}
        text = json.dumps(data, separators=(",", ":"))
        await self._store.set(keys.authorization_code(digest(code)), text, ttl)

    async def peek(self, code: str) -> AuthorizationCode | None:
        """The grant, left in place."""
        text = await self._store.get(keys.authorization_code(digest(code)))
        return None if text is None else AuthorizationCode(**json.loads(text))

    async def take(self, code: str) -> AuthorizationCode | None:
        """The grant, once: a second call for the same code answers ``None``."""
        text = await self._store.take(keys.authorization_code(digest(code)))
        return None if text is None else AuthorizationCode(**json.loads(text))

    async def remember_issued(self, code: str, issued: IssuedTokens, ttl: float) -> None:
        data = {"access_token_ids": issued.access_token_ids, "expires_at": issued.expires_at}
        text = json.dumps(data, separators=(",", ":"))
        await self._store.set(keys.used_authorization_code(digest(code)), text, ttl)

    async def issued_for_used(self, code: str) -> IssuedTokens | None:
        text = await self._store.get(keys.used_authorization_code(digest(code)))
        return None if text is None else IssuedTokens(**json.loads(text))


class AuthorizationRequests:
    """The hosted page's pending authorization requests, as the provider wrote them
    (``oidc/authorize.py``), and the one each bound QR login answers."""

    def __init__(self, store: EphemeralStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def keep(self, request_id: str, request: str, ttl: float) -> None:
        await self._store.set(keys.authorization_request(request_id), request, ttl)

    async def find(self, request_id: str) -> str | None:
        return await self._store.get(keys.authorization_request(request_id))

    async def take(self, request_id: str) -> str | None:
        """The request, removed: it has ended (its response went out)."""
        return await self._store.take(keys.authorization_request(request_id))

    async def bind(self, login: QRLogin, request: str) -> None:
        """Tie ``request`` to the login for as long as the login is kept."""
        ttl = max(login.expires_at - self._clock(), 1.0) + AFTERLIFE
        await self._store.set(keys.bound_authorization_request(login.id), request, ttl)

    async def bound(self, login_id: str) -> str | None:
        return await self._store.get(keys.bound_authorization_request(login_id))


class MiniProgramSessions:
    def __init__(self, store: EphemeralStore) -> None:
        self._store = store

    async def put(self, token: str, session: MiniProgramSession, ttl: float) -> None:
        # Field by field: ``asdict`` deep-copies, for three strings.
        text = json.dumps(
            {"qrlogin_id": session.qrlogin_id, "app_id": session.app_id, "openid": session.openid}
        )
        await self._store.set(keys.miniprogram_session(digest(token)), text, ttl)

    async def get(self, token: str) -> MiniProgramSession | None:
        text = await self._store.get(keys.miniprogram_session(digest(token)))
        return None if text is None else MiniProgramSession(**json.loads(text))


class RevokedTokens:
    """Access-token ids revoked before their expiry; kept until the token would expire."""

    def __init__(self, store: EphemeralStore) -> None:
        self._store = store

    async def revoke(self, token_id: str, ttl: float) -> None:
        await self._store.set(keys.revoked_access_token(token_id), "1", max(ttl, 1.0))

    async def is_revoked(self, token_id: str) -> bool:
        return await self._store.get(keys.revoked_access_token(token_id)) is not None


class RateLimiter:
    """Fixed-window counters shared by every instance that shares the store."""

    def __init__(self, store: EphemeralStore) -> None:
        self._store = store

    async def hit(self, key: str, limit: int, window: float) -> bool:
        """Count one attempt; ``False`` once more than ``limit`` were made in the window."""
        return await self._store.incr(keys.rate_limit(key), window) <= limit

    async def attempt(self, key: str, limit: int, window: float, now: float) -> float:
        """Count one attempt in the window ``now`` falls in (windows are aligned to the clock,
        so every instance counts in the same one); the seconds until the next window when
        more than ``limit`` were made in this one, else 0."""
        index = int(now // window)
        # Kept two windows: ``exceeded`` reads the one before too.
        count = await self._store.incr(keys.rate_limit_window(key, index), 2 * window)
        return 0.0 if count <= limit else (index + 1) * window - now

    async def exceeded(self, key: str, limit: int, window: float, now: float) -> float:
        """Like ``attempt`` without counting, for limits counted only on failure (``attempt``
        counts them). The window before counts too, so failures just before and after a
        window's edge add up: guessing never gets twice the limit."""
        index = int(now // window)
        # One read of both windows: every long poll checks its IP first (``web/limits.py``).
        windows = [keys.rate_limit_window(key, i) for i in (index - 1, index)]
        count = sum(int(value or 0) for value in await self._store.get_many(windows))
        return 0.0 if count < limit else (index + 1) * window - now
