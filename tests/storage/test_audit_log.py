"""The audit log's writer: events queued as they happen reach the database by themselves, in
order, whole on shutdown, at once when too many wait, and after a database failure."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from tests.support.actors import Browser
from tests.support.server import minilogin_dev

from minilogin.core.entities import AuditEvent
from minilogin.storage.audit_log import AuditLog
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStore, make_engine, upgrade_async

POOL = "pool_audit"
#: MINILOGIN_AUDIT_MAX_PENDING for the crash test: the README promises that a crash loses the
#: events of at most this many answered requests, less one.
MAX_PENDING = 5
CREATORS = 8
LOGINS_UNDER_LOAD = 4 * CREATORS
T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'minilogin.db'}"


@pytest.fixture
async def durable(url: str) -> AsyncIterator[SqlStore]:
    await upgrade_async(url)
    store = await SqlStore.open(url, SecretBox("k" * 43))
    yield store
    await store.close()


def event(n: int) -> AuditEvent:
    return AuditEvent(pool_id=POOL, action=f"step.{n}", created_at=T0 + timedelta(seconds=n))


async def written(durable: SqlStore) -> list[str]:
    """The actions in the database, oldest first."""
    return [e.action for e in reversed(await durable.list_audit_events(POOL, limit=1000))]


async def until_written(durable: SqlStore, count: int) -> list[str]:
    for _ in range(500):
        actions = await written(durable)
        if len(actions) >= count:
            return actions
        await asyncio.sleep(0.01)
    return await written(durable)


async def test_events_reach_the_database_by_themselves_in_order(durable: SqlStore) -> None:
    log = AuditLog(durable, flush_interval=0.01, max_pending=1000)
    log.start()
    try:
        for n in range(30):
            await log.add(event(n))
        assert await until_written(durable, 30) == [f"step.{n}" for n in range(30)]
    finally:
        await log.close()


async def test_adding_does_not_write_until_the_writer_runs(durable: SqlStore) -> None:
    log = AuditLog(durable, flush_interval=60, max_pending=1000)
    log.start()
    await log.add(event(1))
    assert await written(durable) == []  # the request answered without writing
    await log.flush()
    assert await written(durable) == ["step.1"]
    await log.close()


async def test_closing_writes_what_is_left(durable: SqlStore) -> None:
    log = AuditLog(durable, flush_interval=60, max_pending=1000)
    log.start()
    for n in range(3):
        await log.add(event(n))
    await log.close()
    assert await written(durable) == ["step.0", "step.1", "step.2"]


async def test_too_many_waiting_events_are_written_by_the_request_that_adds_one(
    durable: SqlStore,
) -> None:
    log = AuditLog(durable, flush_interval=60, max_pending=3)
    await log.add(event(0))
    await log.add(event(1))
    assert await written(durable) == []
    await log.add(event(2))
    assert await written(durable) == ["step.0", "step.1", "step.2"]


async def test_events_survive_a_failed_write(durable: SqlStore, url: str) -> None:
    """The database refuses the write (its table gone for a moment): nothing is lost."""
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE audit_events RENAME TO audit_away"))
        log = AuditLog(durable, flush_interval=0.01, max_pending=1000)
        await log.add(event(0))
        with pytest.raises(Exception, match="audit_events"):
            await log.flush()
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE audit_away RENAME TO audit_events"))
        await log.add(event(1))
        await log.flush()
    finally:
        await engine.dispose()
    assert await written(durable) == ["step.0", "step.1"]


async def test_the_writer_retries_after_a_failure(durable: SqlStore, url: str) -> None:
    engine = make_engine(url)
    log = AuditLog(durable, flush_interval=0.01, max_pending=1000)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE audit_events RENAME TO audit_away"))
        log.start()
        await log.add(event(0))
        await asyncio.sleep(0.1)  # the writer tries, and fails
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE audit_away RENAME TO audit_events"))
        assert await until_written(durable, 1) == ["step.0"]
    finally:
        await log.close()
        await engine.dispose()


@pytest.mark.slow
async def test_a_crash_loses_no_more_than_the_readme_says(tmp_path: Path) -> None:
    """kill -9 of a real ``minilogin dev`` while logins are being created: of the creations
    it answered, at most ``MAX_PENDING - 1`` are missing from the audit log."""
    acknowledged: list[tuple[float, str]] = []
    # One address creating logins as fast as it can: measure the log, not the rate limits.
    limits_off = {"MINILOGIN_RATE_LIMIT_SCALE": "0"}
    with minilogin_dev(
        tmp_path, MINILOGIN_AUDIT_MAX_PENDING=str(MAX_PENDING), **limits_off
    ) as server:
        async with httpx.AsyncClient(timeout=10) as web:
            browser = Browser(web, server.issuer())

            enough = asyncio.Event()

            async def create_forever() -> None:
                while True:
                    login = await browser.create()
                    acknowledged.append((time.monotonic(), login.id))
                    if len(acknowledged) >= LOGINS_UNDER_LOAD:
                        enough.set()

            creators = [asyncio.create_task(create_forever()) for _ in range(CREATORS)]
            # A while of load, however slow the machine is today.
            async with asyncio.timeout(120):
                await enough.wait()
            killed_at = time.monotonic()
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
            for creator in creators:
                creator.cancel()
            await asyncio.gather(*creators, return_exceptions=True)
    with sqlite3.connect(tmp_path / "minilogin.db") as db:
        written = {
            json.loads(detail)["qrlogin"]
            for (detail,) in db.execute(
                "SELECT detail FROM audit_events WHERE action = 'qrlogin.created'"
            )
        }
    lost = [login_id for at, login_id in acknowledged if at < killed_at and login_id not in written]
    assert len(acknowledged) > CREATORS
    assert len(lost) <= MAX_PENDING - 1, (lost, len(acknowledged))
