"""The provider's audit events (``token.issued``, ``token.revoked``, ``logout``…), emitted to
the sink it is handed, as node-oidc-provider emits events: what is done with them (the audit
log, its queue) is the product's business, not the protocol's. The login floor emits its own
events (``qrlogin.created``, ``login.authorized``…) through the same function."""

from __future__ import annotations

from datetime import UTC, datetime

from minilogin.core.entities import AuditEvent
from minilogin.ports import AuditSink


async def emit(
    sink: AuditSink,
    action: str,
    *,
    pool_id: str | None,
    actor: str | None = None,
    subject: str | None = None,
    ip: str | None = None,
    **detail: object,
) -> None:
    await sink.add(
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
