"""The dashboard's funnel as counted from the audit log, and the dashboard and audit log of a
pool read directly through their use case, on a SQLite store."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from tests.admin.conftest import ACTOR, Invalidations

from minilogin.admin import pools
from minilogin.admin.activity import ActivityPorts, audit_log, funnel, stats
from minilogin.admin.pools import PoolPorts
from minilogin.core.entities import AuditEvent
from minilogin.core.errors import InvalidRequest
from minilogin.storage.audit_log import AuditLog
from minilogin.storage.sql import SqlStore

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in China


def event(action: str, login: str | None, minutes: float = 0, **detail: object) -> AuditEvent:
    if login is not None:
        detail["qrlogin"] = login
    return AuditEvent(
        pool_id="pool_1",
        action=action,
        detail=detail,
        created_at=T0 + timedelta(minutes=minutes),
    )


def created(
    login: str, minutes: float = 0, connection: str = "wx", life: float = 120
) -> AuditEvent:
    expires_at = (T0 + timedelta(minutes=minutes)).timestamp() + life
    return event("qrlogin.created", login, minutes, connection=connection, expires_at=expires_at)


def test_each_code_is_counted_once_by_how_far_it_got() -> None:
    events = [
        created("a"),
        event("qrlogin.scanned", "a", 0.2),
        event("login.authorized", "a", 0.3),
        event("token.issued", "a", 0.4),
        created("b"),
        event("qrlogin.scanned", "b", 0.2),
        event("login.cancelled", "b", 0.3, by="phone"),
        created("c"),
        event("login.cancelled", "c", 0.1, by="browser"),
        created("d"),
        created("e"),
        event("qrlogin.scanned", "e", 0.5),
        event("login.needs_binding", "e", 0.6),
        created("f"),
        event("qrlogin.scanned", "f", 0.2),
        event("login.refused", "f", 0.3, reason="account_not_found"),
        created("g"),
        # A binding that ended in a token without a login.authorized naming the QR login.
        event("token.issued", "g", 1),
        # Events that are not about a QR login, or about one created before the window.
        event("token.issued", None, 1, grant_type="refresh_token"),
        event("login.authorized", "older", 1),
    ]
    later = (T0 + timedelta(minutes=10)).timestamp()
    counts = funnel(reversed(events), later, T0.astimezone(CST).date(), 1, CST)
    assert counts == {
        "wx": {
            date(2026, 3, 1): {
                "shown": 7,
                "scanned": 5,
                "authorized": 2,
                "consumed": 2,
                "cancelled": 3,
                "expired": 2,
            }
        }
    }
    still_on_screen = funnel(events, T0.timestamp() + 60, date(2026, 3, 1), 1, CST)
    assert still_on_screen["wx"][date(2026, 3, 1)]["expired"] == 0


def test_codes_count_on_the_day_they_were_shown_in_the_time_zone_asked() -> None:
    # 23:30 and 00:30 in China are 15:30 and 16:30 UTC of the same day.
    late = created("late", minutes=14 * 60 + 30, connection="wx")
    early = created("early", minutes=15 * 60 + 30, connection="wx")
    china = funnel([late, early], T0.timestamp(), date(2026, 3, 1), 2, CST)
    assert {day: row["shown"] for day, row in china["wx"].items()} == {
        date(2026, 3, 1): 1,
        date(2026, 3, 2): 1,
    }
    utc = funnel([late, early], T0.timestamp(), date(2026, 3, 1), 2, UTC)
    assert {day: row["shown"] for day, row in utc["wx"].items()} == {date(2026, 3, 1): 2}
    second_day_only = funnel([late, early], T0.timestamp(), date(2026, 3, 2), 1, CST)
    assert {day: row["shown"] for day, row in second_day_only["wx"].items()} == {
        date(2026, 3, 2): 1
    }


def test_sources_are_counted_apart() -> None:
    counts = funnel(
        [created("a", connection="one"), created("b", connection="two")],
        T0.timestamp(),
        date(2026, 3, 1),
        1,
        CST,
    )
    assert set(counts) == {"one", "two"}


# the dashboard and the log, read through the use case


@pytest.fixture
def ports(store: SqlStore, audit: AuditLog) -> ActivityPorts:
    return ActivityPorts(
        pools=store, sources=store, audit_events=store, audit=audit, clock=time.time
    )


async def test_the_dashboard_counts_this_instances_queued_events_per_source_and_day(
    ports: ActivityPorts, store: SqlStore, config: Invalidations, audit: AuditLog
) -> None:
    pool = await pools.create_pool(
        PoolPorts(pools=store, config=config, audit=audit), ACTOR, {"slug": "acme", "name": "A"}
    )
    now = datetime.now(UTC)
    shown = {"qrlogin": "a", "connection": "gone", "expires_at": now.timestamp() + 120}
    for action, detail, when in (
        ("qrlogin.created", shown, now - timedelta(seconds=1)),
        ("qrlogin.scanned", {"qrlogin": "a"}, now),
    ):
        await audit.add(AuditEvent(pool_id=pool.id, action=action, detail=detail, created_at=when))

    dashboard = await stats(ports, "acme", days=2, tz_offset=0)
    assert dashboard.days == [now.date() - timedelta(days=1), now.date()]
    # A source deleted since still shows the codes it had shown, without a name.
    [source] = dashboard.connections
    assert (source.unique_id, source.display_name) == ("gone", None)
    assert len(source.days) == 2
    assert source.totals == {
        "shown": 1,
        "scanned": 1,
        "authorized": 0,
        "consumed": 0,
        "cancelled": 0,
        "expired": 0,
    }
    with pytest.raises(InvalidRequest, match="invalid_days"):
        await stats(ports, "acme", days=32)

    events = await audit_log(ports, "acme", ("qrlogin.scanned",), 10)
    assert [event.action for event in events] == ["qrlogin.scanned"]
    with pytest.raises(InvalidRequest, match="invalid_action"):
        await audit_log(ports, "acme", ("",), 10)
    service = await audit_log(ports, None, (), 10)
    assert service == []
