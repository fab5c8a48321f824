"""Administrators, API tokens and console sessions, directly through their use case, on a
SQLite store and the in-memory ephemeral store."""

from __future__ import annotations

from collections import Counter

import pytest
from tests.admin.conftest import ACTOR

from minilogin.admin import Actor, access
from minilogin.admin.access import AccessPorts
from minilogin.core.errors import Forbidden, NotFound, RateLimited, Unauthorized
from minilogin.storage.audit_log import AuditLog
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.storage.sql import SqlStore

SETTINGS_TOKEN = "a-token-from-the-settings"
ALLOWED_FAILURES = 3


class Limits:
    """Counts failures per rule and subject; refuses a subject once it failed too often."""

    def __init__(self) -> None:
        self.failures: Counter[tuple[str, str]] = Counter()

    async def check_failures(self, rule: str, subject: str) -> None:
        if self.failures[rule, subject] >= ALLOWED_FAILURES:
            raise RateLimited("rate_limited", retry_after=60.0)

    async def count_failure(self, rule: str, subject: str) -> None:
        self.failures[rule, subject] += 1


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limits() -> Limits:
    return Limits()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ports(store: SqlStore, audit: AuditLog, limits: Limits, clock: Clock) -> AccessPorts:
    return AccessPorts(
        admins=store,
        audit=audit,
        sessions=MemoryStore(),
        limits=limits,
        clock=clock,
        admin_token=SETTINGS_TOKEN,
    )


async def test_a_token_acts_as_its_administrator_and_notes_when_it_was_last_used(
    ports: AccessPorts, store: SqlStore, clock: Clock
) -> None:
    await access.create_admin(ports, ACTOR, "Boss", "correct horse battery")
    token = await access.create_api_token(ports, ACTOR, "boss", "deploy script")
    assert token.startswith(access.TOKEN_PREFIX)

    assert await access.authenticate_token(ports, token, "192.0.2.1") == Actor("boss", "192.0.2.1")
    [(stored, username)] = await access.list_api_tokens(store)
    assert username == "boss"
    assert stored.last_used_at is not None
    assert stored.last_used_at.timestamp() == clock.now
    # Used again within the minute: not written again.
    clock.now += 30
    await access.authenticate_token(ports, token, None)
    again, _ = await access.get_api_token(store, stored.id)
    assert again.last_used_at == stored.last_used_at

    assert await access.authenticate_token(ports, SETTINGS_TOKEN, None) == Actor(
        access.SETTINGS_TOKEN_ACTOR
    )
    with pytest.raises(Unauthorized):
        await access.authenticate_token(ports, token + "x", None)

    await access.delete_admin(ports, ACTOR, "boss")
    assert await access.list_api_tokens(store) == []
    with pytest.raises(Unauthorized):
        await access.authenticate_token(ports, token, None)
    with pytest.raises(NotFound, match="unknown_admin"):
        await access.create_api_token(ports, ACTOR, "boss", None)


async def test_a_console_session_needs_the_password_and_its_csrf_token(
    ports: AccessPorts,
) -> None:
    await access.create_admin(ports, ACTOR, "boss", "correct horse battery")
    session_id, session = await access.log_in(ports, " Boss ", "correct horse battery", "192.0.2.1")
    assert await access.console_session(ports.sessions, session_id) == session
    access.check_csrf(session, session.csrf)
    with pytest.raises(Forbidden, match="csrf_failed"):
        access.check_csrf(session, None)

    await access.log_out(ports.sessions, session_id)
    assert await access.console_session(ports.sessions, session_id) is None


async def test_wrong_passwords_back_off_per_account_and_address_and_never_tell_who_exists(
    ports: AccessPorts, limits: Limits, store: SqlStore, audit: AuditLog
) -> None:
    await access.create_admin(ports, ACTOR, "boss", "correct horse battery")
    for username in ("boss", "nobody", "boss"):
        with pytest.raises(Unauthorized, match="invalid_admin_credentials"):
            await access.log_in(ports, username, "wrong password", "192.0.2.1")
    assert limits.failures == {
        ("password.account_ip", "console/boss/192.0.2.1"): 2,
        ("password.account_ip", "console/nobody/192.0.2.1"): 1,
        ("password.ip", "console/192.0.2.1"): 3,
    }
    # The address has failed too often: even the right password waits.
    with pytest.raises(RateLimited):
        await access.log_in(ports, "boss", "correct horse battery", "192.0.2.1")
    await access.log_in(ports, "boss", "correct horse battery", "198.51.100.9")

    await audit.flush()
    events = await store.search_audit_events(None, action_prefixes=("admin.login",))
    assert [(e.action, e.actor) for e in events] == [
        ("admin.login", "boss"),
        ("admin.login_failed", "boss"),
        ("admin.login_failed", "nobody"),
        ("admin.login_failed", "boss"),
    ]
