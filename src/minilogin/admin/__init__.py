"""What administrators do (API.md §6), the same for the admin API, the console and the CLI:
user pools, applications, identity sources, users, the dashboard and the audit log.

Input arrives as the JSON object the administrator sent; ``core/connection.py`` and
``core/applications.py`` check it. Every change is written to the audit log as ``admin.…``
with who made it, from where, and which fields changed (never a secret's value).

Each use case receives the narrow ports it uses (``ports``), bundled per module
(``PoolPorts``, ``UserPorts``…), and answers domain objects; the HTTP bodies are the web
floor's (``web/admin_bodies.py``). Administration looks pools and applications up in the
stores themselves (``lookups.py``), never in an instance's cached copy, since it changes what
it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from minilogin.core.entities import AuditEvent
from minilogin.ports import AuditRecorder


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is making a change: an administrator's username, ``token:<id>`` for an automation
    token, ``MINILOGIN_ADMIN_TOKEN`` for the settings' token, ``cli`` for the command line."""

    name: str
    ip: str | None = None


async def record(
    audit: AuditRecorder,
    actor: Actor,
    action: str,
    *,
    pool_id: str | None,
    subject: str | None = None,
    **detail: object,
) -> None:
    await audit.add(
        AuditEvent(
            pool_id=pool_id,
            action=f"admin.{action}",
            actor=actor.name,
            subject=subject,
            ip=actor.ip,
            detail=detail,
            created_at=datetime.now(UTC),
        )
    )
