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
(and, in the sandbox, some 30 ms of CPU drawing it), so it makes codes a few at a time, spaced
by sleeps, rather than the whole deficit at once. Its pace, in codes a second, is the headroom
times the **recent lease rate** (the leases of the current and the previous bucket, over the
time they cover), at least ``MIN_FILL_RATE`` and at most ``code_pool_fill_rate``; while the
pool is below ``code_pool_min_size`` (an operator prefilling it) the pace is
``code_pool_fill_rate`` itself. The pace spaces the starts of codes: one that takes longer
than its interval delays the next, never overlaps it. The codes the pace spaces over
``BATCH_SPAN`` are made as one **batch**, when the last of them is due (so none starts before
its turn): their WeChat calls one after another, their images stored a few to a transaction
(``IMAGES_PER_WRITE``), one pass of the filler for them all, where a transaction and a pass of
its own were about half a code's CPU (BENCHMARKS.md, "Issue 17, third pass: code making and
creation"). At a pace below ``1 / BATCH_SPAN`` a batch is one code.

One pool per **generation** = (AppID, page, env version, identity source, logo version):
changing the logo or the AppID starts a new generation for the next logins, while the codes
already on screen keep their images until their logins end.

Images are kept in the durable store (``code_images``): WeChat's bytes as they came, or the
code with the logo composed in as a JPEG, tens of KB each. The ephemeral store holds only
keys, shared by all instances (``keys.py`` names them). Codes are made by ``render.py``.

An image row lives until its code is retired or, when nobody retires it (a login that just
expired, a pool lost from the ephemeral store), until its ``kept_until``; a sweep deletes the
rows past it. Fresh codes and ring slots are kept ``RETENTION`` and renewed while in use.

**A single-use lease is one ephemeral-store operation**, the pop of a fresh code (recycling
probes the ring as before). What else it used to do on the request's path is written back by
the filler at the start of its next pass (within ``FILL_INTERVAL`` of the last), off the
creation's latency: the lease counted per bucket (one increment by the pass's count per
bucket rather than one per lease), and the taken code's image shortened from the fresh code's
``RETENTION`` to its login's hold (one durable-store transaction for all the pass's codes,
where each lease's own waited for the database's write turn behind the filler's image
inserts). Both are safe to defer: until the count is
written the pool's target reads a few leases low, and until the image is shortened it lives
longer, never shorter (``too_old_to_lend`` leaves it at least half its retention). A crash
loses at most the write-back of a pass; the images then go at their ``RETENTION``.
Likewise the images of ended logins' retired scenes are deleted by the filler, all those of
the last ``FILL_INTERVAL`` in one statement per AppID, rather than by one transaction of each
login's last request: an ended login's image is never served again (``login/qrlogin.py``), so
only the row lives those seconds longer; a crash leaves it to the sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from minilogin.codepool import keys, policy
from minilogin.codepool.policy import (
    BUCKET,
    FILL_INTERVAL,
    FILL_LOCK_TTL,
    IMAGES_PER_WRITE,
    INVALID_PAGE,
    LEASE_MARGIN,
    MAX_TAKEN,
    PROBES,
    RETENTION,
    SIZE_CACHE,
    SWEEP_INTERVAL,
    FillPlan,
    PageError,
    PoolSettings,
    Slot,
    code_page,
    generation_key,
)
from minilogin.codepool.render import Renderer
from minilogin.core.entities import CodeImage, IdentitySource
from minilogin.core.errors import RateLimited, Unavailable
from minilogin.core.qrlogin import QRLogin, Status
from minilogin.core.tokens import new_scene
from minilogin.observability import metrics
from minilogin.ports import (
    CodeBudget,
    CodeImageStore,
    IdentitySourceReader,
    PoolKeyspace,
    SceneRetirement,
)
from minilogin.storage.ephemeral.records import AFTERLIFE
from minilogin.storage.errors import is_unavailable
from minilogin.wechat.errors import WeChatError
from minilogin.wechat.types import CodeMaker, MiniProgram

log = logging.getLogger("minilogin.codepool")


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


class CodePool:
    """Hands scenes to QR logins and keeps the pool filled; one per ``Services``."""

    def __init__(
        self,
        store: PoolKeyspace,
        durable: CodeImageStore,
        config: IdentitySourceReader,
        wechat: CodeMaker,
        limiter: CodeBudget,
        qrlogins: SceneRetirement,
        settings: PoolSettings,
        clock: Callable[[], float],
        mini_program: Callable[[IdentitySource], MiniProgram],
    ) -> None:
        self._store = store
        self._durable = durable
        self._config = config
        self._renderer = Renderer(store, wechat, limiter, clock)
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
        # Written back by the filler's next pass (``_write_back``): the leases counted per
        # leases key, with the key's time to live, and the images of the fresh codes taken,
        # with their logins' ends.
        self._counted: dict[str, tuple[int, float]] = {}
        self._taken: list[tuple[str, str, datetime]] = []
        # The AppIDs and scenes of the ended logins whose images are to be deleted, and since
        # when (by the clock) the oldest of them waits.
        self._retired: list[tuple[str, str]] = []
        self._retired_since = math.inf

    @property
    def recycles(self) -> bool:
        """Whether codes return to the pool after their logins (and logins match numbers)."""
        return self._settings.recycle

    # Leasing -------------------------------------------------------------------------------

    def hold(self, source: IdentitySource) -> float:
        """How long a lease of the source's codes lasts when nothing shortens it
        (``policy.hold``): past the scene index of an expired login (``AFTERLIFE``)."""
        return policy.hold(self._settings, source.qr_expires_in, AFTERLIFE)

    async def lease(self, source: IdentitySource, login_id: str) -> str:
        """A scene for ``login_id``: a code from the pool, else one made now; ``Unavailable``
        when the pool is dry and the budget spent."""
        app = self._mini_program(source)
        generation = self._register(source, app)
        hold = self.hold(source)
        bucket = int(self._clock() // BUCKET)
        self._count(keys.leases(generation.key, bucket), 1, hold + BUCKET)
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
        login can show it (written back by the filler). A code that waited more than half its
        retention is retired instead: its image may be swept before the login ends."""
        while (raw := await self._store.pop(keys.fresh(generation.key))) is not None:
            slot = Slot.parse(raw)
            now = self._clock()
            if policy.too_old_to_lend(slot.made_at, now):
                await self._durable.delete_code_images(app.app_id, [slot.scene])
                continue
            if len(self._taken) < MAX_TAKEN:
                self._taken.append((app.app_id, slot.scene, _when(now + hold)))
            return slot.scene
        return None

    async def _lease_recycled(
        self, app: MiniProgram, generation: Generation, login_id: str, hold: float
    ) -> str | None:
        start = await self._store.incr(keys.cursor(generation.key), RETENTION)
        size = await self._size(generation)
        for offset in range(min(size, PROBES)):
            slot = await self._store.get(keys.slot(generation.key, (start + offset) % size))
            if slot is None:
                continue
            scene = Slot.parse(slot).scene
            if await self._store.add(keys.lease(app.app_id, scene), login_id, hold):
                return scene
        return None

    async def release(self, login: QRLogin) -> None:
        """The login ended (consumed or cancelled). Single use: its scene is retired and its
        image deleted (by the filler's next pass after ``FILL_INTERVAL``). Recycling: the
        scene returns to the pool once the quarantine has passed; nothing changes when the
        lease already went to someone else."""
        if login.status not in (Status.CONSUMED, Status.CANCELLED):
            return
        quarantine = self._settings.quarantine
        await self._qrlogins.retire_scene(login, quarantine)
        if not self.recycles:
            if not self._retired:
                self._retired_since = self._clock()
            if len(self._retired) < MAX_TAKEN:
                self._retired.append((login.app_id, login.scene))
            return
        await self._store.compare_and_set(
            keys.lease(login.app_id, login.scene),
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
            image = await self._renderer.render(
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
        key = generation_key(source, app.app_id, code_page(source))
        if not self.recycles:
            return await self._store.length(keys.fresh(key))
        raw = await self._store.get(keys.size(key))
        return int(raw) if raw is not None else 0

    async def page_error(self, source: IdentitySource) -> PageError | None:
        """The refusal of the source's page by WeChat, while it stands: for the console."""
        return await self._renderer.refusal(source, self._mini_program(source))

    # Making codes ------------------------------------------------------------------------

    def _budget(self) -> int:
        return self._settings.budget_per_minute

    def _filler_budget(self) -> int:
        return policy.filler_budget(self._settings)

    def _dry(self) -> Unavailable:
        """No code to give and the budget spent: try again when the budget's minute ends."""
        retry_after = policy.dry_retry_after(self._clock())
        return Unavailable("temporarily_unavailable", retry_after=retry_after)

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
        image = await self._renderer.render(source, app, scene, budget)
        await self._keep(source, app, generation, [(scene, image)], lent_to=lent_to, index=index)
        return scene

    async def _make_batch(
        self, source: IdentitySource, app: MiniProgram, generation: Generation, count: int
    ) -> None:
        """The filler's ``count`` codes: one WeChat call after another (a refused page or the
        budget spent stops the batch at the first), their images stored ``IMAGES_PER_WRITE``
        to a transaction as they come. The codes made before a call fails are kept before its
        error is raised."""
        made: list[tuple[str, CodeImage]] = []
        failed: Exception | None = None
        lock = keys.fill_lock(generation.key)
        renewed = self._clock()
        for _ in range(count):
            if self._clock() - renewed > FILL_LOCK_TTL / 3:
                # WeChat slow to answer: the lock must outlive the batch.
                await self._store.compare_and_set(lock, self._owner, self._owner, FILL_LOCK_TTL)
                renewed = self._clock()
            scene = new_scene()
            try:
                image = await self._renderer.render(source, app, scene, self._filler_budget())
            except Exception as error:
                failed = error
                break
            made.append((scene, image))
            if len(made) == IMAGES_PER_WRITE:
                await self._keep(source, app, generation, made)
                made = []
        if made:
            await self._keep(source, app, generation, made)
        if failed is not None:
            raise failed

    async def _keep(
        self,
        source: IdentitySource,
        app: MiniProgram,
        generation: Generation,
        made: list[tuple[str, CodeImage]],
        *,
        lent_to: tuple[str, float] | None = None,
        index: int | None = None,
    ) -> None:
        """Store codes just made (``_make``'s ``lent_to`` and ``index`` go with one code), their
        images first in one transaction: a login that finds a code finds its image."""
        now = self._clock()
        if not self.recycles:
            until = _when(now + (lent_to[1] if lent_to is not None else RETENTION))
            await self._durable.put_code_images(
                [(app.app_id, scene, image, until) for scene, image in made]
            )
            if lent_to is None:
                for scene, _ in made:
                    dump = Slot(scene, now).dump()
                    await self._store.push(keys.fresh(generation.key), dump, RETENTION)
            return
        if lent_to is not None:
            login_id, hold = lent_to
            await self._store.set(keys.lease(app.app_id, made[0][0]), login_id, hold)
        images: list[tuple[str, str, CodeImage, datetime]] = []
        slots: list[tuple[int, str]] = []
        for scene, image in made:
            at = index if index is not None else await self._append(generation)
            # A code beyond the maximum is kept only as long as its login can show it.
            kept = RETENTION if at is not None else self.hold(source)
            images.append((app.app_id, scene, image, _when(now + kept)))
            if at is not None:
                slots.append((at, scene))
        await self._durable.put_code_images(images)
        for at, scene in slots:
            slot = Slot(scene, now).dump()
            await self._store.set(keys.slot(generation.key, at), slot, RETENTION)

    async def _append(self, generation: Generation) -> int | None:
        """The index of a new slot at the end of the ring, or ``None`` at the maximum."""
        key = keys.size(generation.key)
        while True:
            raw = await self._store.get(key)
            size = int(raw) if raw is not None else 0
            if size >= self._settings.max_size:
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
            raw = await self._store.get(keys.size(generation.key))
            generation.size = int(raw) if raw is not None else 0
            generation.size_read_at = now
            metrics.code_pool_size(
                generation.app_id, generation.pool_id, generation.connection, generation.size
            )
        return generation.size

    def _register(self, source: IdentitySource, app: MiniProgram) -> Generation:
        key = generation_key(source, app.app_id, code_page(source))
        generation = self._generations.get(key)
        now = self._clock()
        if generation is None:
            generation = Generation(key, source.pool_id, source.unique_id, app.app_id, now, now)
            self._generations[key] = generation
        generation.last_used = now
        return generation

    # Written back off the lease's path ---------------------------------------------------

    def _count(self, key: str, leases: int, ttl: float) -> None:
        counted, _ = self._counted.get(key, (0, ttl))
        self._counted[key] = (counted + leases, ttl)

    async def _write_back(self, *, everything: bool = False) -> None:
        """Add the leases counted since the last pass to the shared counters, shorten the
        images of the fresh codes taken meanwhile to their logins' ends, and delete those of
        the ended logins once the oldest has waited ``FILL_INTERVAL`` (or ``everything``, at
        shutdown). What a store error leaves unwritten stays for the next pass."""
        counted, self._counted = self._counted, {}
        items = list(counted.items())
        for done, (key, (leases, ttl)) in enumerate(items):
            try:
                await self._store.incr(key, ttl, by=leases)
            except BaseException:
                for left, (n, left_ttl) in items[done:]:
                    self._count(left, n, left_ttl)
                raise
        taken, self._taken = self._taken, []
        try:
            await self._durable.keep_code_images(taken)
        except BaseException:
            # Leases taken meanwhile joined the empty list; the next pass writes them all.
            self._taken = taken + self._taken
            raise
        if not self._retired:
            return
        if not everything and self._clock() < self._retired_since + FILL_INTERVAL:
            return
        retired, since = self._retired, self._retired_since
        self._retired, self._retired_since = [], math.inf
        scenes: dict[str, list[str]] = {}
        for app_id, scene in retired:
            scenes.setdefault(app_id, []).append(scene)
        try:
            for app_id, of_app in scenes.items():
                await self._durable.delete_code_images(app_id, of_app)
        except BaseException:
            # All again at the next pass: deleting an image twice deletes nothing.
            self._retired, self._retired_since = retired + self._retired, since
            raise

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
        try:
            await self._write_back(everything=True)
        except Exception as error:
            # Shutting down with the store out: the counts are lost, the images go at their
            # retention.
            log.warning("the code pool could not write back its leases: %s", error)

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
        await self._write_back()
        now = self._clock()
        if await self._store.add(keys.IMAGES_SWEPT, self._owner, SWEEP_INTERVAL):
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
            if generation_key(source, app.app_id, code_page(source)) != key:
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

    async def _demand(self, source: IdentitySource, generation: Generation) -> policy.Demand:
        """The generation's load (``policy.demand``), from the leases all instances counted
        in buckets of ``BUCKET`` seconds."""
        now = self._clock()
        hold = self.hold(source)
        first, last = policy.lease_buckets(now, hold)
        counts: dict[int, int] = {}
        for bucket in range(first, last + 1):
            raw = await self._store.get(keys.leases(generation.key, bucket))
            counts[bucket] = int(raw) if raw is not None else 0
        return policy.demand(self._settings, counts, now, hold, generation.first_used)

    async def _fill(
        self, source: IdentitySource, app: MiniProgram, generation: Generation
    ) -> float | None:
        """Make the generation's codes that are due, a batch at a time, while it is short of
        its target; when the next batch is due, or ``None`` when none is to be made (at the
        target or the maximum, or another instance holds the lock). Before the planned batch's
        time a pass reads nothing else and answers that time."""
        plan_key = keys.fill_next(generation.key)
        plan = await self._plan(plan_key)
        if plan.at > self._clock():
            return plan.at  # read again under the lock before anything is made
        demand = await self._demand(source, generation)
        lock = keys.fill_lock(generation.key)
        if not await self._store.add(lock, self._owner, FILL_LOCK_TTL):
            return None  # another instance is filling this generation
        try:
            if self.recycles:
                await self._sweep_if_due(source, app, generation, demand.target)
            size = await self._current_size(generation)
            if size >= demand.target:
                return None
            plan = await self._plan(plan_key)
            while size < demand.target:
                now = self._clock()
                if plan.at > now:
                    return plan.at
                count = min(plan.codes, demand.target - size)
                # The pace spaces the starts of codes, from this batch's (whose last code is due
                # now) to the next one's, made when its last code is due: no code starts before
                # its turn, and time left idle earns nothing, so the filler never catches up in
                # a burst. The plan is written before the calls: a call that fails counts
                # against the pace too.
                per_second = policy.pace(self._settings, demand, size)
                following = policy.batch(per_second, demand.target - size - count)
                plan = FillPlan(now + following / per_second, following)
                ttl = following / per_second + FILL_LOCK_TTL
                await self._store.set(plan_key, plan.dump(), ttl)
                await self._make_batch(source, app, generation, count)
                await self._store.compare_and_set(lock, self._owner, self._owner, FILL_LOCK_TTL)
                grown = await self._current_size(generation)
                if self.recycles and grown < size + count:
                    return None  # at the maximum: what was just made beyond it serves no slot
                size = grown
            return None
        finally:
            if await self._store.get(lock) == self._owner:
                await self._store.delete(lock)

    async def _plan(self, key: str) -> FillPlan:
        """The generation's next batch; one code at once when none is planned."""
        raw = await self._store.get(key)
        return FillPlan.parse(raw) if raw is not None else FillPlan(-math.inf, 1)

    async def _current_size(self, generation: Generation) -> int:
        """The fresh codes (single use), or the ring's slots (recycling), as of now."""
        if not self.recycles:
            fresh = await self._store.length(keys.fresh(generation.key))
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
        swept_key = keys.swept(generation.key)
        now = self._clock()
        last = await self._store.get(swept_key)
        if not policy.sweep_due(float(last) if last is not None else None, now):
            return
        if last is None:
            claimed = await self._store.add(swept_key, str(now), RETENTION)
        else:
            claimed = await self._store.compare_and_set(swept_key, last, str(now), RETENTION)
        size_key = keys.size(generation.key)
        raw = await self._store.get(size_key)
        if not claimed or raw is None:
            return
        size = int(raw)
        if policy.shrinks(now - generation.first_used, self.hold(source), size, target):
            if await self._store.compare_and_set(size_key, raw, str(target), RETENTION):
                await self._drop(app, generation, range(target, size))
                size = target
        else:
            await self._store.compare_and_set(size_key, raw, raw, RETENTION)
        generation.size_read_at = -math.inf
        lock = keys.fill_lock(generation.key)
        for index in range(size):
            await self._renew(source, app, generation, index, now)
            if index % 100 == 99:
                await self._store.compare_and_set(lock, self._owner, self._owner, FILL_LOCK_TTL)

    async def _drop(self, app: MiniProgram, generation: Generation, indexes: range) -> None:
        """Forget the codes of slots past the end of a shrunk ring, except those a login
        still shows: their images stay until they expire on their own."""
        for index in indexes:
            key = keys.slot(generation.key, index)
            raw = await self._store.get(key)
            if raw is None:
                continue
            scene = Slot.parse(raw).scene
            await self._store.delete(key)
            if await self._store.get(keys.lease(app.app_id, scene)) is None:
                await self._durable.delete_code_images(app.app_id, [scene])

    async def _renew(
        self,
        source: IdentitySource,
        app: MiniProgram,
        generation: Generation,
        index: int,
        now: float,
    ) -> None:
        key = keys.slot(generation.key, index)
        raw = await self._store.get(key)
        if raw is None:
            await self._make(source, app, generation, index=index)
            return
        slot = Slot.parse(raw)
        kept_until = _when(now + RETENTION)
        if not await self._durable.keep_code_image(app.app_id, slot.scene, kept_until):
            image = await self._renderer.render(source, app, slot.scene, self._filler_budget())
            await self._durable.put_code_image(app.app_id, slot.scene, image, kept_until)
        elif not policy.renews(slot.made_at, now):
            return
        await self._store.set(key, Slot(slot.scene, now).dump(), RETENTION)


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
