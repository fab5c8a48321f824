"""Writing security-relevant events to the audit log (queued: ``storage/audit_log.py``).

The login floor's flows are handed the log's writer as an ``AuditSink`` and ``emit`` to it;
``record`` serves the callers that are still handed the whole services object.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from minilogin.core.entities import AuditEvent
from minilogin.ports import AuditSink


class HoldsAudit(Protocol):
    """Anything that holds the audit log's writer (the wiring's services)."""

    @property
    def audit(self) -> AuditSink: ...


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


async def record(
    holder: HoldsAudit,
    action: str,
    *,
    pool_id: str | None,
    actor: str | None = None,
    subject: str | None = None,
    ip: str | None = None,
    **detail: object,
) -> None:
    await emit(holder.audit, action, pool_id=pool_id, actor=actor, subject=subject, ip=ip, **detail)
