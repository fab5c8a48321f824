"""The code pool's rules, without I/O: how long a code is held, how many codes a generation
should have and how fast the filler makes them, how much of WeChat's per-minute budget it may
spend, when a waiting code is retired or renewed, and how long a page WeChat refused is left
alone. ``pool.py`` reads and writes the stores and asks these functions what to do.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

from minilogin.core.entities import IdentitySource
from minilogin.core.qrlogin import CODE_LIFETIME

#: How long a made code is kept in the store without being renewed by a sweep.
RETENTION = 7 * 24 * 3600.0
#: How often one instance sweeps a generation (renews old slots, remakes lost ones, shrinks).
SWEEP_INTERVAL = 3600.0
#: How many slots a lease tries before it makes a code on demand.
PROBES = 8
#: The filler's longest pause between passes, when no code is due sooner and no lease wakes it.
FILL_INTERVAL = 2.0
#: The filler makes together the codes its pace spaces over this many seconds (at most
#: ``MAX_BATCH``): one pass, one transaction for their images, rather than one of each a code.
BATCH_SPAN = 0.25
MAX_BATCH = 16
#: A batch's images are written this many to a transaction. On a SQLite file the write runs
#: on the event loop's thread, about 0.1 ms an image beside 0.17 ms for one alone: four keep
#: the loop's pause near one image's, where a batch's ten would hold it for a millisecond.
IMAGES_PER_WRITE = 4
#: The filler's slowest pace (codes a second) while a pool is short of its target, however
#: quiet the load: a pool that needs a few codes has them within seconds.
MIN_FILL_RATE = 1.0
#: The recent lease rate is measured over at least this many seconds, so that the first few
#: leases of a generation do not read as a surge.
RATE_SPAN_MIN = 5.0
#: The taken codes whose images the filler shortens at its next pass, at most: beyond (the
#: database out for long), an image simply lives its retention.
MAX_TAKEN = 10_000
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
#: The share of the per-minute budget the filler may use; the rest stays for logins that
#: find the pool dry.
FILLER_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """The operator's choices for the code pool (``MINILOGIN_CODE_POOL_*``, ``config.py``)."""

    #: Codes return to the pool after their logins (and logins match numbers).
    recycle: bool
    #: Seconds a scene rests after its login ends before another login may show it.
    quarantine: float
    min_size: int
    max_size: int
    #: The pool's size over the recent load, and the filler's pace over the recent lease rate.
    headroom: float
    #: The filler's fastest pace, in codes a second.
    fill_rate: float
    #: ``getwxacodeunlimit`` calls per minute and AppID, all instances together.
    budget_per_minute: int


@dataclass(frozen=True, slots=True)
class Demand:
    """The load on one generation, all instances together: how many codes it should have, and
    how many leases a second it has had of late."""

    target: int
    lease_rate: float


def hold(settings: PoolSettings, qr_expires_in: float, scene_afterlife: float) -> float:
    """How long a lease lasts when nothing shortens it: the login's longest life (the code's
    lifetime added at authorization) plus the quarantine, and never less than the
    ``scene_afterlife`` that the scene index of an expired login lives on."""
    quarantine = max(settings.quarantine, scene_afterlife)
    return qr_expires_in + CODE_LIFETIME + quarantine + LEASE_MARGIN


def generation_key(source: IdentitySource, app_id: str, page: str | None) -> str:
    """Codes of one generation are interchangeable: same mini program, page, version and
    badge."""
    parts = [
        app_id,
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


def lease_buckets(now: float, hold_seconds: float) -> tuple[int, int]:
    """The buckets of leases the demand reads: from the first of the last lease lifetime (and
    at least the previous one) to the current one, both included."""
    last = int(now // BUCKET)
    first = int((now - hold_seconds) // BUCKET) + 1
    return min(first, last - 1), last


def demand(
    settings: PoolSettings,
    counts: dict[int, int],
    now: float,
    hold_seconds: float,
    first_used: float,
) -> Demand:
    """The generation's load from the leases all instances counted per bucket (``counts``,
    over ``lease_buckets``). The target: the leases of the last lease lifetime (an upper bound
    of how many are held at once) times the headroom, within the bounds. The lease rate: the
    leases of the current and the previous bucket over the time they cover since this
    instance first leased from the generation (a server that just started has no older load
    to spread them over)."""
    last = int(now // BUCKET)
    first = int((now - hold_seconds) // BUCKET) + 1
    leases = sum(counts.get(bucket, 0) for bucket in range(first, last + 1))
    wanted = math.ceil(leases * settings.headroom)
    since = max((last - 1) * BUCKET, first_used)
    recent = counts.get(last - 1, 0) + counts.get(last, 0)
    rate = recent / max(RATE_SPAN_MIN, now - since)
    return Demand(min(settings.max_size, max(settings.min_size, wanted)), rate)


def pace(settings: PoolSettings, load: Demand, size: int) -> float:
    """The filler's pace in codes a second: ``fill_rate`` while the pool is below its minimum
    size; else the headroom over the recent lease rate, so that the pool keeps ahead of the
    logins, at least ``MIN_FILL_RATE`` and at most ``fill_rate``."""
    if size < settings.min_size:
        return settings.fill_rate
    wanted = settings.headroom * load.lease_rate
    return min(settings.fill_rate, max(MIN_FILL_RATE, wanted))


def batch(pace_per_second: float, deficit: int) -> int:
    """How many codes the filler makes together at ``pace_per_second``: those the pace spaces
    over ``BATCH_SPAN``, no more than the pool lacks (``deficit``) nor ``MAX_BATCH``, and at
    least one."""
    return max(1, min(deficit, MAX_BATCH, int(pace_per_second * BATCH_SPAN)))


def filler_budget(settings: PoolSettings) -> int:
    """The calls a minute the filler may spend: its share of the budget, at least one."""
    return max(1, int(settings.budget_per_minute * FILLER_SHARE))


def budget_window(now: float) -> int:
    """The minute of the clock whose calls the budget counts."""
    return int(now // BUDGET_WINDOW)


def dry_retry_after(now: float) -> int:
    """No code to give and the budget spent: the seconds until the budget's minute ends."""
    return max(1, math.ceil(BUDGET_WINDOW - now % BUDGET_WINDOW))


def too_old_to_lend(made_at: float, now: float) -> bool:
    """A fresh code that waited more than half its retention is retired rather than lent:
    its image may be swept before the login ends."""
    return now - made_at > RETENTION / 2


def sweep_due(last_swept: float | None, now: float) -> bool:
    """Whether a generation's sweep is due: once an interval, across instances."""
    return last_swept is None or now - last_swept >= SWEEP_INTERVAL


def shrinks(measured_for: float, hold_seconds: float, size: int, target: int) -> bool:
    """Whether a ring shrinks to its target: only far beyond it, and only on a target this
    instance has watched a whole lease lifetime for."""
    return measured_for >= hold_seconds and size > 2 * target


def renews(made_at: float, now: float) -> bool:
    """Whether a slot's code, its image still stored, has passed half its retention and is
    renewed for another."""
    return now - made_at >= RETENTION / 2


@dataclass(frozen=True, slots=True)
class Slot:
    """A code in the pool: its scene and when it was made (or last renewed)."""

    scene: str
    made_at: float

    def dump(self) -> str:
        return f"{self.scene} {self.made_at:.3f}"

    @classmethod
    def parse(cls, raw: str) -> Slot:
        scene, _, made_at = raw.partition(" ")
        return cls(scene, float(made_at or 0))


@dataclass(frozen=True, slots=True)
class FillPlan:
    """The filler's next batch, one for all instances: ``codes`` codes made ``at`` the time
    the last of them is due by the pace, so that no code starts before its turn."""

    at: float
    codes: int

    def dump(self) -> str:
        return f"{self.at!r} {self.codes}"

    @classmethod
    def parse(cls, raw: str) -> FillPlan:
        at, codes = raw.split(" ")
        return cls(float(at), int(codes))


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

    def names(self, source: IdentitySource, app_id: str) -> bool:
        """Whether it is about the page the source asks for now: after the administrator
        changed it, an old refusal says nothing."""
        wanted = (app_id, code_page(source), source.env_version.value)
        return (self.app_id, self.page, self.env_version) == wanted

    def holds(self, now: float) -> bool:
        """Whether codes for the page are still not to be asked for."""
        return now < self.retry_at


def refused(
    source: IdentitySource, app_id: str, errmsg: str, before: PageError | None, now: float
) -> PageError:
    """WeChat refused the page once more: the back-off doubles with each refusal in a row, up
    to ``PAGE_BACKOFF_MAX``; the refusal dates from the first of them."""
    failures = before.failures + 1 if before is not None else 1
    backoff = min(PAGE_BACKOFF_MAX, PAGE_BACKOFF * 2 ** (failures - 1))
    return PageError(
        app_id=app_id,
        page=code_page(source),
        env_version=source.env_version.value,
        errmsg=errmsg,
        failures=failures,
        since=before.since if before is not None else now,
        retry_at=now + backoff,
    )
