"""The administration use cases called directly, without HTTP: a migrated SQLite store, the
real audit log over it and the in-memory ephemeral store; what changes the configuration
cache is only counted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from minilogin.admin import Actor
from minilogin.core.entities import IdentitySource
from minilogin.storage.audit_log import AuditLog
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStore, upgrade_async

ACTOR = Actor("alice", "203.0.113.7")


class Invalidations:
    """The configuration cache's invalidation, counted."""

    def __init__(self) -> None:
        self.count = 0

    async def changed(self) -> None:
        self.count += 1


class CodesMade:
    """The code pool of a source whose page WeChat never refused."""

    async def page_error(self, source: IdentitySource) -> None:
        return None


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'minilogin.db'}"
    await upgrade_async(url)
    opened = await SqlStore.open(url, SecretBox("test-secret-key"))
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def audit(store: SqlStore) -> AuditLog:
    """The queue of audit events, written when a use case (or the test) flushes it."""
    return AuditLog(store, flush_interval=3600, max_pending=1000)


@pytest.fixture
def config() -> Invalidations:
    return Invalidations()
