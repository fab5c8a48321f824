"""A pool's users administered directly through their use case, on a SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.admin.conftest import ACTOR, Invalidations

from minilogin.admin import pools, users
from minilogin.admin.pools import PoolPorts
from minilogin.admin.users import UserPorts
from minilogin.core.entities import AuditEvent, Pool
from minilogin.core.errors import Conflict, InvalidFields, NotFound
from minilogin.storage.audit_log import AuditLog
from minilogin.storage.sql import SqlStore


@pytest.fixture
def ports(store: SqlStore, audit: AuditLog) -> UserPorts:
    return UserPorts(pools=store, users=store, audit_events=store, audit=audit)


@pytest.fixture
async def pool(store: SqlStore, config: Invalidations, audit: AuditLog) -> Pool:
    ports = PoolPorts(pools=store, config=config, audit=audit)
    return await pools.create_pool(ports, ACTOR, {"slug": "acme", "name": "Acme"})


async def test_every_broken_field_is_reported_at_once_and_nothing_is_created(
    ports: UserPorts, pool: Pool
) -> None:
    with pytest.raises(InvalidFields) as refused:
        await users.create_user(
            ports, ACTOR, "acme", {"username": "1st", "email": "nope", "password": "short"}
        )
    assert [problem.code for problem in refused.value.problems] == [
        "invalid_username",
        "invalid_email",
        "invalid_password",
    ]
    assert await users.search(ports, "acme", None, 10, 0) == ([], 0)


async def test_a_number_another_account_has_is_taken(ports: UserPorts, pool: Pool) -> None:
    await users.create_user(ports, ACTOR, "acme", {"phone": "13800138000"})
    with pytest.raises(Conflict, match="phone_taken"):
        await users.create_user(ports, ACTOR, "acme", {"phone": "+86 138 0013 8000"})


async def test_blocking_is_logged_as_such_and_details_show_recent_logins(
    ports: UserPorts, audit: AuditLog, store: SqlStore, pool: Pool
) -> None:
    user = await users.create_user(ports, ACTOR, "acme", {"username": "Bob"})
    assert user.username == "bob"
    # A login of this instance, still queued: the details flush the queue before reading.
    await audit.add(
        AuditEvent(
            pool_id=pool.id,
            action="login.authorized",
            subject=user.id,
            ip="198.51.100.1",
            detail={"client_id": "shop", "connection": "wx"},
            created_at=datetime.now(UTC),
        )
    )
    blocked = await users.update_user(ports, ACTOR, "acme", user.id, {"blocked": True})
    assert blocked.blocked

    details = await users.details(ports, "acme", user.id)
    assert details.user.blocked
    assert details.identities == []
    assert [(e.action, e.detail["client_id"]) for e in details.recent_logins] == [
        ("login.authorized", "shop")
    ]
    changes = await store.search_audit_events(pool.id, action_prefixes=("admin.user.",))
    assert [e.action for e in changes] == ["admin.user.blocked", "admin.user.created"]

    await users.delete_user(ports, ACTOR, "acme", user.id)
    with pytest.raises(NotFound, match="unknown_user"):
        await users.details(ports, "acme", user.id)
