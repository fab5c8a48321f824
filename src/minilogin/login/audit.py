"""Writing security-relevant events to the audit log (queued: ``storage/audit_log.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

from minilogin.core.entities import AuditEvent
from minilogin.wiring import Services


async def record(
    svc: Services,
    action: str,
    *,
    pool_id: str | None,
    actor: str | None = None,
    subject: str | None = None,
    ip: str | None = None,
    **detail: object,
) -> None:
    await svc.audit.add(
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
