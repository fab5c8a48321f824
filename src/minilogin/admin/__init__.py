"""What administrators do (API.md §6), the same for the admin API, the console and the CLI:
user pools, applications, identity sources, users, the dashboard and the audit log.

Input arrives as the JSON object the administrator sent; ``core/connection.py`` and
``core/applications.py`` check it. Every change is written to the audit log as ``admin.…``
with who made it, from where, and which fields changed (never a secret's value).
"""

from __future__ import annotations

from dataclasses import dataclass

from minilogin.login import audit
from minilogin.wiring import Services


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is making a change: an administrator's username, ``token:<id>`` for an automation
    token, ``MINILOGIN_ADMIN_TOKEN`` for the settings' token, ``cli`` for the command line."""

    name: str
    ip: str | None = None


async def record(
    svc: Services,
    actor: Actor,
    action: str,
    *,
    pool_id: str | None,
    subject: str | None = None,
    **detail: object,
) -> None:
    await audit.record(
        svc,
        f"admin.{action}",
        pool_id=pool_id,
        actor=actor.name,
        subject=subject,
        ip=actor.ip,
        **detail,
    )
