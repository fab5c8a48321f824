"""The audit log on SQL: ``AuditStore`` of ``minilogin.ports``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select

from minilogin.core.entities import AuditEvent
from minilogin.storage.sql.common import Database, new_id, utc
from minilogin.storage.sql.models import AuditEventRow


class SqlAuditStore:
    """``AuditStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_audit_events(self, events: Sequence[AuditEvent]) -> None:
        rows = [
            AuditEventRow(
                id=event.id or new_id("evt"),
                pool_id=event.pool_id,
                action=event.action,
                actor=event.actor,
                subject=event.subject,
                detail=dict(event.detail),
                ip=event.ip,
                created_at=utc(event.created_at),
            )
            for event in events
        ]
        async with self._db.transaction() as session:
            session.add_all(rows)

    async def list_audit_events(self, pool_id: str, limit: int = 100) -> list[AuditEvent]:
        """The pool's latest ``limit`` events, newest first."""
        async with self._db.reads() as session:
            rows = await session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.pool_id == pool_id)
                .order_by(AuditEventRow.created_at.desc(), AuditEventRow.id.desc())
                .limit(limit)
            )
        return [_audit_event(row) for row in rows]

    async def search_audit_events(
        self,
        pool_id: str | None,
        *,
        action_prefixes: tuple[str, ...] = (),
        subject: str | None = None,
        since: datetime | None = None,
        limit: int | None = 100,
    ) -> list[AuditEvent]:
        statement = select(AuditEventRow).where(
            AuditEventRow.pool_id.is_(None) if pool_id is None else AuditEventRow.pool_id == pool_id
        )
        if action_prefixes:
            statement = statement.where(
                or_(
                    *(
                        AuditEventRow.action.startswith(prefix, autoescape=True)
                        for prefix in action_prefixes
                    )
                )
            )
        if subject is not None:
            statement = statement.where(AuditEventRow.subject == subject)
        if since is not None:
            statement = statement.where(AuditEventRow.created_at >= utc(since))
        statement = statement.order_by(AuditEventRow.created_at.desc(), AuditEventRow.id.desc())
        if limit is not None:
            statement = statement.limit(limit)
        async with self._db.reads() as session:
            rows = await session.scalars(statement)
            return [_audit_event(row) for row in rows]


def _audit_event(row: AuditEventRow) -> AuditEvent:
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
