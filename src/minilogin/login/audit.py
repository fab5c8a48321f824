"""Writing security-relevant events to the audit log (queued: ``storage/audit_log.py``).

The login floor's flows are handed the log's writer as an ``AuditSink`` and ``emit`` to it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from minilogin.core.entities import AuditEvent
from minilogin.ports import AuditSink


async def emit(
    audit: AuditSink,
    action: str,
    *,
    pool_id: str | None,
    actor: str | None = None,
    subject: str | None = None,
    ip: str | None = None,
    **detail: object,
) -> None:
    await audit.add(
        AuditEvent(
            pool_id=pool_id,
            action=action,
            actor=actor,
            subject=subject,
            ip=ip,
            detail=detail,
            created_at=datetime.now(UTC),
        )
    )
