"""The JSON bodies of the admin API (API.md §6) and of ``minilogin admin … --json``, built
from what the administration use cases (``admin/``) answer.

Each says what may be shown of a record: never a password hash, a client secret's digest, an
AppSecret or an API token. Times are ISO 8601 in UTC to the second.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from minilogin.admin.activity import STAGES, Dashboard
from minilogin.admin.experience import Preview
from minilogin.admin.users import UserDetails
from minilogin.core.entities import (
    Admin,
    ApiToken,
    Application,
    AuditEvent,
    IdentitySource,
    Pool,
    User,
)
from minilogin.lookups import iso, logo_url
from minilogin.ports import PageRefusal


def _when(value: datetime | None) -> str | None:
    return iso(value.timestamp()) if value is not None else None


def pool_body(pool: Pool, issuer: str) -> dict[str, Any]:
    return {
        "slug": pool.slug,
        "name": pool.name,
        "logo_url": pool.logo_url,
        "issuer": issuer,
        "created_at": _when(pool.created_at),
    }


def application_body(
    application: Application, connections: list[str], client_secret: str | None = None
) -> dict[str, Any]:
    """The client secret is in the body only when it was just made (creation, rotation)."""
    body: dict[str, Any] = {
        "client_id": application.client_id,
        "name": application.name,
        "type": application.type.value,
        "redirect_uris": list(application.redirect_uris),
        "web_origins": list(application.web_origins),
        "post_logout_redirect_uris": list(application.post_logout_redirect_uris),
        "id_token_lifetime": application.id_token_lifetime,
        "access_token_lifetime": application.access_token_lifetime,
        "refresh_token_lifetime": application.refresh_token_lifetime,
        "id_token_signed_response_alg": application.id_token_signed_response_alg,
        "pkce_required": application.pkce_required,
        "resource_server": application.resource_server,
        "connections": connections,
        "created_at": _when(application.created_at),
    }
    if client_secret is not None:
        body["client_secret"] = client_secret
    return body


def connection_body(
    source: IdentitySource, applications: list[Application], issuer: str
) -> dict[str, Any]:
    """A source's fields (``app_secret_set``, never the AppSecret) and where its logo is."""
    return {
        "unique_id": source.unique_id,
        "display_name": source.display_name,
        "callback_url": source.callback_url,
        "private_deployment": source.private_deployment,
        "app_id": source.app_id,
        "app_secret_set": source.app_secret_set,
        "login_mode": source.login_mode.value,
        "association": source.association.value,
        "page": source.page,
        "env_version": source.env_version.value,
        "qr_expires_in": source.qr_expires_in,
        "logo_url": logo_url(issuer, source),
        "applications": [application.client_id for application in applications],
        "created_at": _when(source.created_at),
    }


def code_error_body(refused: PageRefusal | None) -> dict[str, Any] | None:
    """The admin API's ``code_error`` of a source: why WeChat makes no codes for it."""
    if refused is None:
        return None
    return {
        "error": "wechat_invalid_page",
        "page": refused.page,
        "env_version": refused.env_version,
        "errmsg": refused.errmsg,
        "since": iso(refused.since),
        "retry_at": iso(refused.retry_at),
    }


def user_body(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "phone": user.phone,
        "phone_verified": user.phone_verified,
        "email": user.email,
        "nickname": user.nickname,
        "avatar_url": user.avatar_url,
        "password_set": user.password_hash is not None,
        "blocked": user.blocked,
        "login_count": user.login_count,
        "last_login_at": _when(user.last_login_at),
        "created_at": _when(user.created_at),
    }


def details_body(details: UserDetails) -> dict[str, Any]:
    """The user with its linked WeChat identities and its recent logins."""
    body = user_body(details.user)
    body["identities"] = [
        {
            "id": identity.id,
            "app_id": identity.app_id,
            "openid": identity.openid,
            "unionid": identity.unionid,
            "created_at": _when(identity.created_at),
        }
        for identity in details.identities
    ]
    body["recent_logins"] = [
        {
            "at": _when(event.created_at),
            "ip": event.ip,
            "client_id": event.detail.get("client_id"),
            "connection": event.detail.get("connection"),
            "action": event.action,
        }
        for event in details.recent_logins
    ]
    return body


def preview_body(preview: Preview) -> dict[str, Any]:
    return {"user": user_body(preview.user), "claims": preview.claims}


def stats_body(dashboard: Dashboard) -> dict[str, Any]:
    return {
        "days": [day.isoformat() for day in dashboard.days],
        "tz_offset": dashboard.tz_offset,
        "stages": list(STAGES),
        "connections": [
            {
                "unique_id": source.unique_id,
                "display_name": source.display_name,
                "totals": source.totals,
                "days": [
                    {"day": day.isoformat(), **row}
                    for day, row in zip(dashboard.days, source.days, strict=True)
                ],
            }
            for source in dashboard.connections
        ],
    }


def event_body(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "action": event.action,
        "actor": event.actor,
        "subject": event.subject,
        "ip": event.ip,
        "detail": event.detail,
        "created_at": _when(event.created_at),
    }


def admin_body(admin: Admin) -> dict[str, object]:
    """What may be shown of an administrator: never the password hash."""
    return {
        "username": admin.username,
        "created_at": _when(admin.created_at),
    }


def token_body(token: ApiToken, username: str | None) -> dict[str, object]:
    """What may be shown of an API token: never the token or its hash."""
    return {
        "id": token.id,
        "admin": username,
        "description": token.description,
        "created_at": _when(token.created_at),
        "last_used_at": _when(token.last_used_at),
    }
