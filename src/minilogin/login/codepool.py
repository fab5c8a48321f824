"""The code pool: mini program codes made ahead of time, each shown to one QR login.

A mini program code from ``getwxacodeunlimit`` is permanent, and WeChat allows 5000 such calls
a minute per AppID (errcode 45009 beyond; getUnlimitedQRCode, "调用次数限制"). So codes are made
ahead of time by a background filler and taken by the QR logins that need them: the login
path makes no WeChat call while the pool has codes. Only when it is dry is one made on
demand, within a per-minute **budget** that all instances share; when that is spent too, the
login is refused with ``Unavailable`` (503 and ``Retry-After``), never given a code that
another login showed.

**Single use** (the default). A code's scene belongs to one login, ever: the pool is a list
of **fresh** codes that no login has shown, a login takes one off it, and when the login ends
its scene is **retired** and its image deleted. A photo of a code can then reach only the
login that showed it, which has ended.

**Recycling** (``code_pool_recycle``). Codes are lent and come back: each QR login
**leases** a scene whose code was made earlier, and gives it back when the login ends, after
a **quarantine**. A photo of an old code may then reach a newer login, so every login asks for
**number matching** (``login/qrlogin.py``, ``login/miniprogram.py``): the phone must pick the
two digits the PC shows. Recycling saves WeChat calls where their quota is the constraint.

In both modes the filler keeps the pool at its **target**: the leases of the recent past
(how many logins a lease's lifetime holds at once) times a headroom factor, between the
settings' bounds, so the pool follows the load. It is **paced**: each code costs a WeChat call
(and, in the sandbox, some 30 ms of CPU drawing it), so it makes one code at a time, spaced by
sleeps, rather than the whole deficit at once. Its pace, in codes a second, is the headroom
times the **recent lease rate** (the leases of the current and the previous bucket, over the
time they cover), at least ``MIN_FILL_RATE`` and at most ``code_pool_fill_rate``; while the
pool is below ``code_pool_min_size`` (an operator prefilling it) the pace is
``code_pool_fill_rate`` itself. The pace spaces the starts of codes: one that takes longer
than its interval delays the next, never overlaps it.

One pool per **generation** = (AppID, page, env version, identity source, logo version):
changing the logo or the AppID starts a new generation for the next logins, while the codes
already on screen keep their images until their logins end.

Images are kept in the durable store (``code_images``): WeChat's bytes as they came, or the
code with the logo composed in as a JPEG, tens of KB each. The ephemeral store holds only
keys, shared by all instances:

- ``codepool:{gen}:fresh`` (single use) the fresh codes, ``{scene} {made at}``, oldest first;
- ``codepool:{gen}:size`` (recycling) how many slots the ring has (grown by compare-and-set),
  ``codepool:{gen}:slot:{i}`` the scene in slot ``i`` and when it was made, and
  ``codepool:{gen}:cursor`` a counter: each lease starts probing where the last one stopped,
  so the ring is walked in order and the slot tried first is the one leased longest ago;
- ``codepool:{gen}:leases:{minute}`` leases per minute, all instances together: the load the
  target and the filler's pace follow;
- ``codepool:{gen}:fill-lock`` the instance filling the generation now, and
  ``codepool:{gen}:fill-due`` when the filler may make its next code: one pace for all
  instances, whichever of them holds the lock;
- ``codepool:lease:{appid}:{scene}`` (recycling) the QR login holding the scene, taken with
  ``add`` (so two instances can never lease one scene) for the login's longest life plus the
  quarantine, and shortened to the quarantine when the login is consumed or cancelled. A
  login that just expires fires no event (expiry is lazy), so its lease simply runs out;
- ``codepool:page-error:{pool}:{source}`` the identity source's page that WeChat refused
  (errcode 41030): a configuration error, shown to administrators; codes for it are not
  retried until its back-off has passed.

An image row lives until its code is retired or, when nobody retires it (a login that just
expired, a pool lost from the ephemeral store), until its ``kept_until``; a sweep deletes the
rows past it. Fresh codes and ring slots are kept ``RETENTION`` and renewed while in use.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from minilogin.config import Settings
from minilogin.core.entities import IdentitySource
from minilogin.core.errors import RateLimited, Unavailable
from minilogin.core.qrlogin import CODE_LIFETIME, QRLogin, Status
from minilogin.core.tokens import new_scene
from minilogin.images import compose_code, image_type
from minilogin.observability import metrics
from minilogin.storage.config_cache import ConfigReader
from minilogin.storage.durable import CodeImage, DurableStore
from minilogin.storage.ephemeral.base import EphemeralStore
from minilogin.storage.ephemeral.records import AFTERLIFE, QRLogins, RateLimiter
from minilogin.storage.errors import is_unavailable
from minilogin.wechat.client import WeChatClient
from minilogin.wechat.errors import WeChatError, from_errcode
from minilogin.wechat.types import MiniProgram

log = logging.getLogger("minilogin.codepool")

#: How long a made code is kept in the store without being renewed by a sweep.
RETENTION = 7 * 24 * 3600.0
#: How often one instance sweeps a generation (renews old slots, remakes lost ones, shrinks).
SWEEP_INTERVAL = 3600.0
#: How many slots a lease tries before it makes a code on demand.
PROBES = 8
#: The filler's longest pause between passes, when no code is due sooner and no lease wakes it.
FILL_INTERVAL = 2.0
#: The filler's slowest pace (codes a second) while a pool is short of its target, however
#: quiet the load: a pool that needs a few codes has them within seconds.
MIN_FILL_RATE = 1.0
#: The recent lease rate is measured over at least this many seconds, so that the first few
#: leases of a generation do not read as a surge.
RATE_SPAN_MIN = 5.0
#: How long the filler's lock on a generation lasts unless renewed.
FILL_LOCK_TTL = 30.0
#: A lease outlives the scene index of its login by this much, so a new login never finds the
#: index of the previous holder still there.
LEASE_MARGIN = 1.0
#: How long a lease reads the pool's size from memory before asking the store again.
SIZE_CACHE = 1.0
#: Leases are counted per bucket of this many seconds, to measure the recent load.
BUCKET = 60.0
#: The code pool's error code for a page WeChat refuses (errcode 41030, "所传page页面不存在，或者
#:小程序没有发布", with ``check_path`` true): a configuration error of the identity source.
INVALID_PAGE = "wechat_invalid_page"
#: How long codes for a refused page are not asked for after the first refusal; it doubles
#: with each refusal in a row, up to ``PAGE_BACKOFF_MAX``.
PAGE_BACKOFF = 10.0
PAGE_BACKOFF_MAX = 600.0
#: How long a refused page is remembered without a new refusal.
PAGE_ERROR_TTL = 24 * 3600.0
#: The budget counts the calls of each minute of the clock, so ``Retry-After`` can say when
#: the next minute's calls may start.
BUDGET_WINDOW = 60.0
#: Held by the instance that deletes the images whose time has passed, once an interval.
IMAGES_SWEPT_KEY = "codepool:images-swept"
#: The share of the per-minute budget the filler may use; the rest stays for logins that
#: find the pool dry.
FILLER_SHARE = 0.5


@dataclass(slots=True)
class Generation:
    """What this instance knows of one generation: whose codes they are, when it first and
    last leased from it, and the pool's size as last read."""

    key: str
    pool_id: str
    connection: str
    app_id: str
    first_used: float
    last_used: float
    size: int = 0
    size_read_at: float = -math.inf


@dataclass(frozen=True, slots=True)
class Demand:
    """The load on one generation, all instances together: how many codes it should have, and
    how many leases a second it has had of late."""

    target: int
    lease_rate: float


def generation_key(source: IdentitySource, app: MiniProgram, page: str | None) -> str:
    """Codes of one generation are interchangeable: same mini program, page, version and
    badge."""
    parts = [
        app.app_id,
        page or "",
        source.env_version.value,
        source.pool_id,
        source.unique_id,
        str(source.logo_version),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def code_page(source: IdentitySource) -> str | None:
    """The page a code opens: the source's own for a private deployment, else the platform
    mini program's home page."""
    return source.page if source.private_deployment else None


@dataclass(frozen=True, slots=True)
class PageError:
    """WeChat refused the page of an identity source's codes (errcode 41030): what it
    refused, since when, and when codes for it will be asked for again."""

    app_id: str
    page: str | None
    env_version: str
    errmsg: str
    failures: int
    since: float
    retry_at: float

    def dump(self) -> str:
        return json.dumps(
            {
                "app_id": self.app_id,
                "page": self.page,
                "env_version": self.env_version,
                "errmsg": self.errmsg,
                "failures": self.failures,
                "since": self.since,
                "retry_at": self.retry_at,
            }
        )

    @classmethod
    def parse(cls, raw: str) -> PageError:
        data = json.loads(raw)
        return cls(
            app_id=str(data["app_id"]),
            page=data["page"],
            env_version=str(data["env_version"]),
            errmsg=str(data["errmsg"]),
            failures=int(data["failures"]),
            since=float(data["since"]),
            retry_at=float(data["retry_at"]),
        )

    def names(self, source: IdentitySource, app: MiniProgram) -> bool:
        """Whether it is about the page the source asks for now: after the administrator
        changed it, an old refusal says nothing."""
        wanted = (app.app_id, code_page(source), source.env_version.value)
        return (self.app_id, self.page, self.env_version) == wanted

    def error(self) -> WeChatError:
        return from_errcode(41030, self.errmsg, "getwxacodeunlimit")


class CodePool:
    """Hands scenes to QR logins and keeps the pool filled; one per ``Services``."""

    def __init__(
        self,
        store: EphemeralStore,
        durable: DurableStore,
        config: ConfigReader,
        wechat: WeChatClient,
        limiter: RateLimiter,
        qrlogins: QRLogins,
        settings: Settings,
        clock: Callable[[], float],
        mini_program: Callable[[IdentitySource], MiniProgram],
    ) -> None:
        self._store = store
        self._durable = durable
        self._config = config
        self._wechat = wechat
        self._limiter = limiter
        self._qrlogins = qrlogins
        self._settings = settings
        self._clock = clock
        self._mini_program = mini_program
        self._generations: dict[str, Generation] = {}
        self._wakeup = asyncio.Event()
        self._filler: asyncio.Task[None] | None = None
        # Set by ``close``: redis-py may turn a cancellation that lands while it reconnects
        # into a ConnectionError, which the filler survives by design, so a cancel alone
        # could leave it running (and shutdown waiting on it) while Redis is down.
        self._closing = False
        self._owner = secrets.token_hex(8)

    @property
    def recycles(self) -> bool:
        """Whether codes return to the pool after their logins (and logins match numbers)."""
        return self._settings.code_pool_recycle

    # Leasing -------------------------------------------------------------------------------

    def hold(self, source: IdentitySource) -> float:
        """How long a lease lasts when nothing shortens it: the login's longest life (the
        code's lifetime added at authorization) plus the quarantine, and never less than
        the scene index of an expired login lives on."""
        quarantine = max(float(self._settings.code_pool_quarantine), AFTERLIFE)
        return source.qr_expires_in + CODE_LIFETIME + quarantine + LEASE_MARGIN

    async def lease(self, source: IdentitySource, login_id: str) -> str:
        """A scene for ``login_id``: a code from the pool, else one made now; ``Unavailable``
        when the pool is dry and the budget spent."""
        app = self._mini_program(source)
        generation = self._register(source, app)
        hold = self.hold(source)
        bucket = int(self._clock() // BUCKET)
        await self._store.incr(_leases_key(generation.key, bucket), hold + BUCKET)
        scene = (
            await self._lease_recycled(app, generation, login_id, hold)
            if self.recycles
            else await self._take_fresh(app, generation, hold)
        )
        if scene is not None:
            return scene
        # Dry, or every slot tried is lent out: the pool is behind the load. The filler is
        # woken once this code is made, so that it counts it.
        try:
            scene = await self._make(source, app, generation, lent_to=(login_id, hold))
        except RateLimited:
            raise self._dry() from None
        self._wakeup.set()
        return scene

    async def _take_fresh(
        self, app: MiniProgram, generation: Generation, hold: float
    ) -> str | None:
        """A fresh code off the list, now the login's alone; its image is kept as long as the
        login can show it. A code that waited more than half its retention is retired
        instead: its image may be swept before the login ends."""
        while (raw := await self._store.pop(_fresh_key(generation.key))) is not None:
            slot = _Slot.parse(raw)
            now = self._clock()
            if now - slot.made_at > RETENTION / 2:
                await self._durable.delete_code_images(app.app_id, [slot.scene])
                continue
            await self._durable.keep_code_image(app.app_id, slot.scene, _when(now + hold))
            return slot.scene
        return None

    async def _lease_recycled(
        self, app: MiniProgram, generation: Generation, login_id: str, hold: float
    ) -> str | None:
        start = await self._store.incr(_cursor_key(generation.key), RETENTION)
        size = await self._size(generation)
        for offset in range(min(size, PROBES)):
            slot = await self._store.get(_slot_key(generation.key, (start + offset) % size))
            if slot is None:
                continue
            scene = _Slot.parse(slot).scene
            if await self._store.add(_lease_key(app.app_id, scene), login_id, hold):
                return scene
        return None

    async def release(self, login: QRLogin) -> None:
        """The login ended (consumed or cancelled). Single use: its scene is retired and its
        image deleted. Recycling: the scene returns to the pool once the quarantine has
        passed; nothing changes when the lease already went to someone else."""
        if login.status not in (Status.CONSUMED, Status.CANCELLED):
            return
        quarantine = float(self._settings.code_pool_quarantine)
        await self._qrlogins.retire_scene(login, quarantine)
        if not self.recycles:
            await self._durable.delete_code_images(login.app_id, [login.scene])
            return
        await self._store.compare_and_set(
            _lease_key(login.app_id, login.scene),
            login.id,
            login.id,
            quarantine + LEASE_MARGIN,
        )

    async def image(self, source: IdentitySource, login: QRLogin) -> CodeImage:
        """The code of the login's scene as it is served: from the pool, or made now (within
        the budget) when the store no longer has it."""
        stored = await self._durable.get_code_image(login.app_id, login.scene)
        if stored is not None:
            return stored
        try:
            image = await self._render(
                source, self._mini_program(source), login.scene, self._budget()
            )
        except RateLimited:
            raise self._dry() from None
        kept = max(login.expires_at - self._clock(), 0.0) + self.hold(source)
        await self._durable.put_code_image(
            login.app_id, login.scene, image, _when(self._clock() + kept)
        )
        return image

    async def size(self, source: IdentitySource) -> int:
        """How many codes the pool of the source's current generation holds, as all
        instances see it: the fresh ones (single use), or the ring's, lent or free
        (recycling). For operators' metrics and the benchmarks."""
        app = self._mini_program(source)
        key = generation_key(source, app, code_page(source))
        if not self.recycles:
            return await self._store.length(_fresh_key(key))
        raw = await self._store.get(_size_key(key))
        return int(raw) if raw is not None else 0

    async def page_error(self, source: IdentitySource) -> PageError | None:
        """The refusal of the source's page by WeChat, while it stands: for the console."""
        return await self._refusal(source, self._mini_program(source))

    async def _refusal(self, source: IdentitySource, app: MiniProgram) -> PageError | None:
        raw = await self._store.get(_page_error_key(source))
        if raw is None:
            return None
        error = PageError.parse(raw)
        return error if error.names(source, app) else None

    # Making codes ------------------------------------------------------------------------

    def _budget(self) -> int:
        return self._settings.code_pool_budget_per_minute

    def _filler_budget(self) -> int:
        return max(1, int(self._budget() * FILLER_SHARE))

    def _dry(self) -> Unavailable:
        """No code to give and the budget spent: try again when the budget's minute ends."""
        retry_after = max(1, math.ceil(BUDGET_WINDOW - self._clock() % BUDGET_WINDOW))
        return Unavailable("temporarily_unavailable", retry_after=retry_after)

    async def _render(
        self, source: IdentitySource, app: MiniProgram, scene: str, budget: int
    ) -> CodeImage:
        """One ``getwxacodeunlimit`` call, counted against the shared per-minute budget, and
        the logo composed in (off the event loop: it is pixel work). A page that WeChat
        refused is not asked for again before its back-off has passed."""
        refused = await self._refusal(source, app)
        if refused is not None and self._clock() < refused.retry_at:
            raise refused.error()
        window = int(self._clock() // BUDGET_WINDOW)
        key = f"codepool:budget:{app.app_id}:{window}"
        if not await self._limiter.hit(key, budget, BUDGET_WINDOW):
            raise RateLimited("qrcode_budget_exhausted")
        page = code_page(source)
        env_version = source.env_version.value
        try:
            code = await self._wechat.get_unlimited_code(
                app, scene, page=page, env_version=env_version
            )
        except WeChatError as error:
            if error.code == INVALID_PAGE:
                await self._page_refused(source, app, refused, error)
            raise
        metrics.code_made(app.app_id)
        if refused is not None:
            await self._store.delete(_page_error_key(source))
            log.info("identity source %s: WeChat accepts its page %r again", source.unique_id, page)
        if source.logo is None:
            return CodeImage(image_type(code), code)  # nothing to compose: WeChat's bytes
        composed = await asyncio.to_thread(compose_code, code, source.logo)
        return CodeImage(image_type(composed), composed)

    async def _page_refused(
        self,
        source: IdentitySource,
        app: MiniProgram,
        before: PageError | None,
        error: WeChatError,
    ) -> None:
        """Remember WeChat's refusal of the page, with a back-off that doubles with each
        refusal in a row; one log line when the page turns refused, none while it stays."""
        now = self._clock()
        failures = before.failures + 1 if before is not None else 1
        backoff = min(PAGE_BACKOFF_MAX, PAGE_BACKOFF * 2 ** (failures - 1))
        refused = PageError(
            app_id=app.app_id,
            page=code_page(source),
            env_version=source.env_version.value,
            errmsg=error.errmsg or "",
            failures=failures,
            since=before.since if before is not None else now,
            retry_at=now + backoff,
        )
        await self._store.set(_page_error_key(source), refused.dump(), PAGE_ERROR_TTL)
        if before is None:
            log.warning(
                "identity source %s: WeChat refuses its page %r (%s %s, errcode 41030); no "
                "codes are made for it until the page is published or corrected",
                source.unique_id,
                refused.page,
                app.app_id,
                refused.env_version,
            )

    async def _make(
        self,
        source: IdentitySource,
        app: MiniProgram,
        generation: Generation,
        *,
        lent_to: tuple[str, float] | None = None,
        index: int | None = None,
    ) -> str:
        """A new code. Made on demand, it is ``lent_to`` (login id, hold) a login before
        anyone can find it. Single use: one made by the filler joins the fresh list, one
        made on demand serves its login only. Recycling: it takes the end of the ring, or
        slot ``index`` when that one was lost; beyond the pool's maximum it serves its login
        only."""
        budget = self._budget() if lent_to is not None else self._filler_budget()
        scene = new_scene()
        image = await self._render(source, app, scene, budget)
        now = self._clock()
        if not self.recycles:
            kept = lent_to[1] if lent_to is not None else RETENTION
            await self._durable.put_code_image(app.app_id, scene, image, _when(now + kept))
            if lent_to is None:
                # Written last: a login that takes the code finds its image.
                dump = _Slot(scene, now).dump()
                await self._store.push(_fresh_key(generation.key), dump, RETENTION)
            return scene
        if lent_to is not None:
            login_id, hold = lent_to
            await self._store.set(_lease_key(app.app_id, scene), login_id, hold)
        if index is None:
            index = await self._append(generation)
        # A code beyond the maximum is kept only as long as its login can show it.
        kept = RETENTION if index is not None else self.hold(source)
        await self._durable.put_code_image(app.app_id, scene, image, _when(now + kept))
        if index is not None:
            # Written last: a lease that finds the slot finds its image too.
            slot = _Slot(scene, now).dump()
            await self._store.set(_slot_key(generation.key, index), slot, RETENTION)
        return scene

    async def _append(self, generation: Generation) -> int | None:
        """The index of a new slot at the end of the ring, or ``None`` at the maximum."""
        key = _size_key(generation.key)
        while True:
            raw = await self._store.get(key)
            size = int(raw) if raw is not None else 0
            if size >= self._settings.code_pool_max_size:
                return None
            if raw is None:
                grown = await self._store.add(key, "1", RETENTION)
            else:
                grown = await self._store.compare_and_set(key, raw, str(size + 1), RETENTION)
            if grown:
                generation.size, generation.size_read_at = size + 1, self._clock()
                metrics.code_pool_size(
                    generation.app_id, generation.pool_id, generation.connection, size + 1
                )
                return size

    async def _size(self, generation: Generation) -> int:
        now = self._clock()
        if now - generation.size_read_at >= SIZE_CACHE:
            raw = await self._store.get(_size_key(generation.key))
            generation.size = int(raw) if raw is not None else 0
            generation.size_read_at = now
            metrics.code_pool_size(
                generation.app_id, generation.pool_id, generation.connection, generation.size
            )
        return generation.size

    def _register(self, source: IdentitySource, app: MiniProgram) -> Generation:
        key = generation_key(source, app, code_page(source))
        generation = self._generations.get(key)
        now = self._clock()
        if generation is None:
            generation = Generation(key, source.pool_id, source.unique_id, app.app_id, now, now)
            self._generations[key] = generation
        generation.last_used = now
        return generation

    # The background filler -----------------------------------------------------------------

    def start(self) -> None:
        """Start the filler on the running event loop; ``close`` stops it."""
        if self._filler is None:
            self._filler = asyncio.create_task(self._run(), name="codepool-filler")

    async def close(self) -> None:
        if self._filler is not None:
            self._closing = True
            self._filler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._filler
            self._filler = None

    async def _run(self) -> None:
        due: float | None = None
        while not self._closing:
            # Until the next code is due; with none due, a while (a lease that finds the pool
            # dry wakes the filler sooner).
            pause = FILL_INTERVAL if due is None else min(FILL_INTERVAL, due - self._clock())
            if pause > 0:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can turn the
                # cancellation of ``close`` into a timeout and swallow it.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await self._wakeup.wait()
            self._wakeup.clear()
            try:
                due = await self.refill()
            except Exception as error:
                # The filler must outlive a WeChat outage or a store hiccup: the next pass
                # tries again, and logins meanwhile make codes on demand. Those are expected
                # and said in one line; anything else is a bug and gets its traceback.
                due = None
                if isinstance(error, WeChatError) or is_unavailable(error):
                    log.warning("the code pool's filler will try again: %s", error)
                else:
                    log.exception("the code pool's filler failed; it will try again")

    async def refill(self) -> float | None:
        """One pass of the filler over the generations this instance has leased from
        recently: make the codes that are due by the pace, and sweep a generation when a
        sweep is due. Returns when (by the clock) the next code is due, or ``None`` when
        no generation has one to make: each is at its target, filled by another instance,
        or out of budget. Once a sweep interval, across instances, the images nobody retired
        are deleted once their time has passed."""
        now = self._clock()
        if await self._store.add(IMAGES_SWEPT_KEY, self._owner, SWEEP_INTERVAL):
            gone = await self._durable.delete_code_images_until(_when(now))
            if gone:
                log.info("code pool: deleted %d images whose codes were not retired", gone)
        due: list[float] = []
        for key, generation in list(self._generations.items()):
            source = await self._config.get_identity_source(
                generation.pool_id, generation.connection
            )
            if source is None or now - generation.last_used > self.hold(source):
                del self._generations[key]
                continue
            app = self._mini_program(source)
            if generation_key(source, app, code_page(source)) != key:
                # The logo or the mini program changed: new logins use a new generation.
                del self._generations[key]
                continue
            try:
                next_code = await self._fill(source, app, generation)
            except RateLimited:
                log.info("code pool %s: the filler's share of the budget is spent", key)
                continue
            except WeChatError as error:
                if error.code != INVALID_PAGE:
                    raise
                continue  # a configuration error, logged once and shown in the console
            if next_code is not None:
                due.append(next_code)
        return min(due, default=None)

    async def _demand(self, source: IdentitySource, generation: Generation) -> Demand:
        """The generation's load, from the leases all instances counted in buckets of
        ``BUCKET`` seconds. The target: the leases of the last lease lifetime (an upper bound
        of how many are held at once) times the headroom, within the bounds. The lease rate:
        the leases of the current and the previous bucket over the time they cover since this
        instance first leased from the generation (a server that just started has no older
        load to spread them over)."""
        now = self._clock()
        last = int(now // BUCKET)
        first = int((now - self.hold(source)) // BUCKET) + 1
        counts: dict[int, int] = {}
        for bucket in range(min(first, last - 1), last + 1):
            raw = await self._store.get(_leases_key(generation.key, bucket))
            counts[bucket] = int(raw) if raw is not None else 0
        leases = sum(counts[bucket] for bucket in range(first, last + 1))
        wanted = math.ceil(leases * self._settings.code_pool_headroom)
        low, high = self._settings.code_pool_min_size, self._settings.code_pool_max_size
        since = max((last - 1) * BUCKET, generation.first_used)
        rate = (counts[last - 1] + counts[last]) / max(RATE_SPAN_MIN, now - since)
        return Demand(min(high, max(low, wanted)), rate)

    def _pace(self, demand: Demand, size: int) -> float:
        """The filler's pace in codes a second: ``code_pool_fill_rate`` while the pool is
        below its minimum size; else the headroom over the recent lease rate, so that the
        pool keeps ahead of the logins, at least ``MIN_FILL_RATE`` and at most
        ``code_pool_fill_rate``."""
        ceiling = self._settings.code_pool_fill_rate
        if size < self._settings.code_pool_min_size:
            return ceiling
        wanted = self._settings.code_pool_headroom * demand.lease_rate
        return min(ceiling, max(MIN_FILL_RATE, wanted))

    async def _fill(
        self, source: IdentitySource, app: MiniProgram, generation: Generation
    ) -> float | None:
        """Make the generation's codes that are due, one at a time, while it is short of its
        target; when the next one is due, or ``None`` when none is to be made (at the target
        or the maximum, or another instance holds the lock)."""
        demand = await self._demand(source, generation)
        lock = _lock_key(generation.key)
        if not await self._store.add(lock, self._owner, FILL_LOCK_TTL):
            return None  # another instance is filling this generation
        try:
            if self.recycles:
                await self._sweep_if_due(source, app, generation, demand.target)
            size = await self._current_size(generation)
            if size >= demand.target:
                return None
            due_key = _due_key(generation.key)
            raw = await self._store.get(due_key)
            due = float(raw) if raw is not None else -math.inf
            while size < demand.target:
                now = self._clock()
                if due > now:
                    return due
                # The interval runs from this code's start, and is taken before the call: a
                # call that fails counts against the pace too. Time left idle earns nothing,
                # so the filler never catches up in a burst.
                interval = 1 / self._pace(demand, size)
                due = now + interval
                await self._store.set(due_key, repr(due), interval + FILL_LOCK_TTL)
                await self._make(source, app, generation)
                await self._store.compare_and_set(lock, self._owner, self._owner, FILL_LOCK_TTL)
                grown = await self._current_size(generation)
                if self.recycles and grown <= size:
                    return None  # at the maximum: what was just made serves no slot
                size = grown
            return None
        finally:
            if await self._store.get(lock) == self._owner:
                await self._store.delete(lock)

    async def _current_size(self, generation: Generation) -> int:
        """The fresh codes (single use), or the ring's slots (recycling), as of now."""
        if not self.recycles:
            fresh = await self._store.length(_fresh_key(generation.key))
            metrics.code_pool_size(
                generation.app_id, generation.pool_id, generation.connection, fresh
            )
            return fresh
        generation.size_read_at = -math.inf
        return await self._size(generation)

    async def _sweep_if_due(
        self, source: IdentitySource, app: MiniProgram, generation: Generation, target: int
    ) -> None:
        """Once an interval per generation, across instances: renew the slots that passed
        half their retention, remake the ones the store lost, and shrink a ring that has
        grown far beyond a target measured over a whole lease lifetime."""
        swept_key = _swept_key(generation.key)
        now = self._clock()
        last = await self._store.get(swept_key)
        if last is not None and now - float(last) < SWEEP_INTERVAL:
            return
        if last is None:
            claimed = await self._store.add(swept_key, str(now), RETENTION)
        else:
            claimed = await self._store.compare_and_set(swept_key, last, str(now), RETENTION)
        size_key = _size_key(generation.key)
        raw = await self._store.get(size_key)
        if not claimed or raw is None:
            return
        size = int(raw)
        # Shrink only on a target this instance has watched a whole lease lifetime for.
        measured = now - generation.first_used >= self.hold(source)
        if measured and size > 2 * target:
            if await self._store.compare_and_set(size_key, raw, str(target), RETENTION):
                await self._drop(app, generation, range(target, size))
                size = target
        else:
            await self._store.compare_and_set(size_key, raw, raw, RETENTION)
        generation.size_read_at = -math.inf
        lock = _lock_key(generation.key)
        for index in range(size):
            await self._renew(source, app, generation, index, now)
            if index % 100 == 99:
                await self._store.compare_and_set(lock, self._owner, self._owner, FILL_LOCK_TTL)

    async def _drop(self, app: MiniProgram, generation: Generation, indexes: range) -> None:
        """Forget the codes of slots past the end of a shrunk ring, except those a login
        still shows: their images stay until they expire on their own."""
        for index in indexes:
            key = _slot_key(generation.key, index)
            raw = await self._store.get(key)
            if raw is None:
                continue
            scene = _Slot.parse(raw).scene
            await self._store.delete(key)
            if await self._store.get(_lease_key(app.app_id, scene)) is None:
                await self._durable.delete_code_images(app.app_id, [scene])

    async def _renew(
        self,
        source: IdentitySource,
        app: MiniProgram,
        generation: Generation,
        index: int,
        now: float,
    ) -> None:
        key = _slot_key(generation.key, index)
        raw = await self._store.get(key)
        if raw is None:
            await self._make(source, app, generation, index=index)
            return
        slot = _Slot.parse(raw)
        kept_until = _when(now + RETENTION)
        if not await self._durable.keep_code_image(app.app_id, slot.scene, kept_until):
            image = await self._render(source, app, slot.scene, self._filler_budget())
            await self._durable.put_code_image(app.app_id, slot.scene, image, kept_until)
        elif now - slot.made_at < RETENTION / 2:
            return
        await self._store.set(key, _Slot(slot.scene, now).dump(), RETENTION)


@dataclass(frozen=True, slots=True)
class _Slot:
    scene: str
    made_at: float

    def dump(self) -> str:
        return f"{self.scene} {self.made_at:.3f}"

    @classmethod
    def parse(cls, raw: str) -> _Slot:
        scene, _, made_at = raw.partition(" ")
        return cls(scene, float(made_at or 0))


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _fresh_key(generation: str) -> str:
    return f"codepool:{generation}:fresh"


def _size_key(generation: str) -> str:
    return f"codepool:{generation}:size"


def _slot_key(generation: str, index: int) -> str:
    return f"codepool:{generation}:slot:{index}"


def _cursor_key(generation: str) -> str:
    return f"codepool:{generation}:cursor"


def _leases_key(generation: str, bucket: int) -> str:
    return f"codepool:{generation}:leases:{bucket}"


def _lock_key(generation: str) -> str:
    return f"codepool:{generation}:fill-lock"


def _due_key(generation: str) -> str:
    return f"codepool:{generation}:fill-due"


def _swept_key(generation: str) -> str:
    return f"codepool:{generation}:swept"


def _page_error_key(source: IdentitySource) -> str:
    return f"codepool:page-error:{source.pool_id}:{source.unique_id}"


def _lease_key(app_id: str, scene: str) -> str:
    return f"codepool:lease:{app_id}:{scene}"
