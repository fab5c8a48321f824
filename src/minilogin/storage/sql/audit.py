"""The audit log on SQL: ``AuditStore`` of ``minilogin.ports``.

Every login writes events, in batches (``storage/audit_log.py``): a batch is one INSERT of
many rows, Core, built once (``common.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, insert, or_, select

from minilogin.core.entities import AuditEvent
from minilogin.storage.sql.common import Database, new_id, table, utc
from minilogin.storage.sql.models import AuditEventRow

_events = table(AuditEventRow)
_INSERT = insert(_events)


class SqlAuditStore:
    """``AuditStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_audit_events(self, events: Sequence[AuditEvent]) -> None:
        if not events:
            return
        rows = [
            {
                "id": event.id or new_id("evt"),
                "pool_id": event.pool_id,
                "action": event.action,
                "actor": event.actor,
                "subject": event.subject,
                "detail": dict(event.detail),
                "ip": event.ip,
                "created_at": utc(event.created_at),
            }
            for event in events
        ]

        def add(connection: Connection) -> None:
            connection.execute(_INSERT, rows)

        await self._db.write(add)

    async def list_audit_events(self, pool_id: str, limit: int = 100) -> list[AuditEvent]:
        """The pool's latest ``limit`` events, newest first."""
        return await self._db.read(
            _events_of(
                select(_events)
                .where(_events.c.pool_id == pool_id)
                .order_by(_events.c.created_at.desc(), _events.c.id.desc())
                .limit(limit)
            )
        )

    async def search_audit_events(
        self,
        pool_id: str | None,
        *,
        action_prefixes: tuple[str, ...] = (),
        subject: str | None = None,
        since: datetime | None = None,
        limit: int | None = 100,
    ) -> list[AuditEvent]:
        statement = select(_events).where(
            _events.c.pool_id.is_(None) if pool_id is None else _events.c.pool_id == pool_id
        )
        if action_prefixes:
            statement = statement.where(
                or_(
                    *(
                        _events.c.action.startswith(prefix, autoescape=True)
                        for prefix in action_prefixes
                    )
                )
            )
        if subject is not None:
            statement = statement.where(_events.c.subject == subject)
        if since is not None:
            statement = statement.where(_events.c.created_at >= utc(since))
        statement = statement.order_by(_events.c.created_at.desc(), _events.c.id.desc())
        if limit is not None:
            statement = statement.limit(limit)
        return await self._db.read(_events_of(statement))


def _events_of(statement: Select[Any]) -> Callable[[Connection], list[AuditEvent]]:
    def events(connection: Connection) -> list[AuditEvent]:
        return [_audit_event(row) for row in connection.execute(statement)]

    return events


def _audit_event(row: Row[Any]) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        pool_id=row.pool_id,
        action=row.action,
        actor=row.actor,
        subject=row.subject,
        detail=dict(row.detail),
        ip=row.ip,
        created_at=row.created_at,
    )
