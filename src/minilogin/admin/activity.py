"""The dashboard's figures and the audit log of a pool.

The funnel of each identity source and day is counted from the audit log, one QR login at a
time: its ``qrlogin.created`` event says when, for which source and until when it lives, and
later events naming the same QR login (``qrlogin`` in their detail) say how far it got. Every
QR login ends exactly one way: authorized (and then perhaps consumed), cancelled (by the PC,
the phone, a refusal or too many wrong passwords), or expired, which nothing records: a QR
login past its deadline that neither was authorized nor cancelled has expired.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone

from minilogin.core.connection import integer
from minilogin.core.entities import AuditEvent
from minilogin.core.errors import InvalidRequest
from minilogin.lookups import load_pool
from minilogin.ports import AuditRecorder, AuditStore, Clock, IdentitySourceStore, PoolStore

STAGES = ("shown", "scanned", "authorized", "consumed", "cancelled", "expired")
MAX_DAYS = 31
#: China Standard Time: the day boundaries people here expect, unless the caller says otherwise.
DEFAULT_TZ_OFFSET = 8 * 60
MAX_EVENTS = 500
MAX_FILTERS = 10
MAX_FILTER_LENGTH = 64

_SCANNED = ("qrlogin.scanned",)
_AUTHORIZED = ("login.authorized", "binding.linked", "binding.created")
_CONSUMED = ("token.issued", "admin.experience_login")
_CANCELLED = ("login.cancelled", "login.refused", "binding.locked")
#: The prefixes of every action the funnel reads.
FUNNEL_PREFIXES = ("qrlogin.", "login.", "binding.", "token.issued", "admin.experience_login")


@dataclass(frozen=True, slots=True)
class ActivityPorts:
    pools: PoolStore
    sources: IdentitySourceStore
    audit_events: AuditStore
    audit: AuditRecorder
    clock: Clock


@dataclass(frozen=True, slots=True)
class SourceFunnel:
    """One identity source's funnel: for each day of the dashboard, how many QR logins
    reached each stage (``STAGES``)."""

    unique_id: str
    #: ``None`` for a source deleted since, which still shows the codes it had shown.
    display_name: str | None
    days: list[dict[str, int]]

    @property
    def totals(self) -> dict[str, int]:
        return {stage: sum(row[stage] for row in self.days) for stage in STAGES}


@dataclass(frozen=True, slots=True)
class Dashboard:
    days: list[date]
    #: Minutes east of UTC: the time zone the days are counted in.
    tz_offset: int
    connections: list[SourceFunnel]


@dataclass(slots=True)
class _Track:
    """How far one QR login got."""

    day: date
    connection: str
    expires_at: float
    stages: set[str] = field(default_factory=set)

    def outcome(self, now: float) -> set[str]:
        reached = {"shown"} | self.stages
        if "consumed" in reached:
            reached.add("authorized")
        if "authorized" in reached:
            # Authorized means scanned first, and nothing cancels it any more.
            reached.add("scanned")
            reached.discard("cancelled")
        elif "cancelled" not in reached and self.expires_at <= now:
            reached.add("expired")
        return reached


def _stage_of(action: str) -> str | None:
    for stage, actions in (
        ("scanned", _SCANNED),
        ("authorized", _AUTHORIZED),
        ("consumed", _CONSUMED),
        ("cancelled", _CANCELLED),
    ):
        if action in actions:
            return stage
    return None


def funnel(
    events: Iterable[AuditEvent], now: float, first_day: date, days: int, tz: timezone
) -> dict[str, dict[date, dict[str, int]]]:
    """Per source and day (of the code's creation), how many QR logins reached each stage.

    ``events`` may come in any order; those without a ``qrlogin`` are not about a QR login.
    """
    ordered = sorted(events, key=lambda e: e.created_at or datetime.min.replace(tzinfo=UTC))
    tracks: dict[str, _Track] = {}
    for event in ordered:
        login_id = event.detail.get("qrlogin")
        if not isinstance(login_id, str):
            continue
        if event.action == "qrlogin.created" and event.created_at is not None:
            connection = event.detail.get("connection")
            expires_at = event.detail.get("expires_at")
            if isinstance(connection, str) and isinstance(expires_at, int | float):
                day = event.created_at.astimezone(tz).date()
                tracks[login_id] = _Track(day, connection, float(expires_at))
            continue
        track = tracks.get(login_id)
        stage = _stage_of(event.action)
        if track is not None and stage is not None:
            track.stages.add(stage)
    counts: dict[str, dict[date, dict[str, int]]] = {}
    for track in tracks.values():
        if not 0 <= (track.day - first_day).days < days:
            continue
        per_day = counts.setdefault(track.connection, {})
        row = per_day.setdefault(track.day, dict.fromkeys(STAGES, 0))
        for stage in track.outcome(now):
            row[stage] += 1
    return counts


async def stats(
    ports: ActivityPorts,
    pool_slug: str,
    days: object = 14,
    tz_offset: object = DEFAULT_TZ_OFFSET,
) -> Dashboard:
    """The dashboard: for every source of the pool, its funnel for each of the last ``days``
    days (in the time zone ``tz_offset`` minutes east of UTC)."""
    count = integer(days, "invalid_days", 1, MAX_DAYS)
    offset = integer(tz_offset, "invalid_tz_offset", -14 * 60, 14 * 60)
    pool = await load_pool(ports.pools, pool_slug)
    tz = timezone(timedelta(minutes=offset))
    now = ports.clock()
    today = datetime.fromtimestamp(now, tz).date()
    first = today - timedelta(days=count - 1)
    await ports.audit.flush()  # this instance's latest events count too
    events = await ports.audit_events.search_audit_events(
        pool.id,
        action_prefixes=FUNNEL_PREFIXES,
        since=datetime.combine(first, time(), tz),
        limit=None,
    )
    counts = funnel(events, now, first, count, tz)
    sources = await ports.sources.list_identity_sources(pool.id)
    names = {source.unique_id: source.display_name for source in sources}
    # Sources deleted since still show the codes they had shown.
    unique_ids = list(names) + sorted(set(counts) - set(names))
    day_list = [first + timedelta(days=n) for n in range(count)]
    connections = []
    for unique_id in unique_ids:
        per_day = counts.get(unique_id, {})
        figures = [per_day.get(day, dict.fromkeys(STAGES, 0)) for day in day_list]
        connections.append(SourceFunnel(unique_id, names.get(unique_id), figures))
    return Dashboard(day_list, offset, connections)


async def audit_log(
    ports: ActivityPorts,
    pool_slug: str | None,
    action_prefixes: tuple[str, ...],
    limit: object = 100,
) -> list[AuditEvent]:
    """The newest events first; ``action_prefixes`` (``admin.``, ``login.``) narrow it. Without
    a pool: the events of the service itself (administrators, their logins, API tokens)."""
    pool_id = None if pool_slug is None else (await load_pool(ports.pools, pool_slug)).id
    count = integer(limit, "invalid_limit", 1, MAX_EVENTS)
    if len(action_prefixes) > MAX_FILTERS or any(
        not 0 < len(prefix) <= MAX_FILTER_LENGTH for prefix in action_prefixes
    ):
        raise InvalidRequest("invalid_action")
    await ports.audit.flush()  # this instance's latest events count too
    return await ports.audit_events.search_audit_events(
        pool_id, action_prefixes=action_prefixes, limit=count
    )
