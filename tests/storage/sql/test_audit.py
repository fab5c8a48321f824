"""The audit log store (``storage/sql/audit.py``) on every backend of ``stores``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.storage.sql.given import T0, a_pool

from minilogin.core.entities import AuditEvent
from minilogin.storage.sql import SqlStores


async def test_audit_events_are_listed_per_pool_newest_first(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    await stores.audit_events.add_audit_events(
        [
            AuditEvent(
                pool_id=pool.id,
                action=f"login.{minutes}",
                created_at=T0 + timedelta(minutes=minutes),
            )
            for minutes in (0, 2, 1)
        ]
    )
    await stores.audit_events.add_audit_events(
        [AuditEvent(pool_id="pool_other", action="elsewhere")]
    )
    await stores.audit_events.add_audit_events([AuditEvent(pool_id=None, action="pool.created")])
    listed = await stores.audit_events.list_audit_events(pool.id)
    assert [event.action for event in listed] == ["login.2", "login.1", "login.0"]
    limited = await stores.audit_events.list_audit_events(pool.id, limit=2)
    assert [event.action for event in limited] == ["login.2", "login.1"]


async def test_an_audit_event_keeps_every_field(stores: SqlStores) -> None:
    given = AuditEvent(
        pool_id="pool_x",
        action="qrlogin.authorized",
        actor="usr_1",
        subject="qrl_1",
        detail={"client_id": "demo", "amr": ["wechat_mp_qrcode"], "count": 2, "ok": True},
        ip="203.0.113.7",
        created_at=T0,
    )
    await stores.audit_events.add_audit_events([given])
    [stored] = await stores.audit_events.list_audit_events("pool_x")
    assert stored.id.startswith("evt_")
    given.id = stored.id
    assert stored == given


async def test_a_batch_of_audit_events_is_written_whole(stores: SqlStores) -> None:
    batch = [AuditEvent(pool_id="pool_b", action=f"step.{n}", created_at=T0) for n in range(5)]
    await stores.audit_events.add_audit_events(batch)
    listed = await stores.audit_events.list_audit_events("pool_b")
    assert sorted(event.action for event in listed) == [f"step.{n}" for n in range(5)]
    assert len({event.id for event in listed}) == 5


async def test_audit_events_are_searched_by_pool_action_subject_and_time(
    stores: SqlStores,
) -> None:
    events = [
        AuditEvent(pool_id="pool_a", action="login.ok", subject="usr_1", created_at=T0),
        AuditEvent(
            pool_id="pool_a",
            action="login.failed",
            subject="usr_2",
            created_at=T0 + timedelta(minutes=1),
        ),
        AuditEvent(
            pool_id="pool_a", action="user.updated", subject="usr_1", created_at=T0 + timedelta(2)
        ),
        AuditEvent(pool_id="pool_a", action="login_%", created_at=T0 + timedelta(3)),
        AuditEvent(pool_id=None, action="admin.created", created_at=T0),
        AuditEvent(pool_id="pool_b", action="login.ok", created_at=T0),
    ]
    await stores.audit_events.add_audit_events(events)

    async def actions(pool_id: str | None, **filters: Any) -> list[str]:
        found = await stores.audit_events.search_audit_events(pool_id, **filters)
        return [event.action for event in found]

    assert await actions("pool_a") == ["login_%", "user.updated", "login.failed", "login.ok"]
    assert await actions("pool_a", action_prefixes=("login.",)) == ["login.failed", "login.ok"]
    assert await actions("pool_a", action_prefixes=("login_%", "user.")) == [
        "login_%",
        "user.updated",
    ]
    assert await actions("pool_a", subject="usr_1") == ["user.updated", "login.ok"]
    assert await actions("pool_a", since=T0 + timedelta(minutes=1)) == [
        "login_%",
        "user.updated",
        "login.failed",
    ]
    assert await actions("pool_a", limit=1) == ["login_%"]
    assert await actions(None) == ["admin.created"]
    assert len(await actions("pool_a", limit=None)) == 4
