"""Applications (OAuth clients) of a pool, and which identity sources each one offers.

A web application's client secret is shown once, when it is made (at creation or rotation);
the store keeps only its SHA-256 digest, which is what the token endpoint compares.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from minilogin.admin import Actor, record
from minilogin.core.applications import changed_application, changed_fields, new_application
from minilogin.core.entities import Application, ApplicationType
from minilogin.core.errors import InvalidRequest
from minilogin.core.tokens import digest, new_secret
from minilogin.login.qrlogin import iso, load_application, load_pool
from minilogin.wiring import Services


def application_body(
    application: Application, connections: list[str], client_secret: str | None = None
) -> dict[str, Any]:
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
        "created_at": iso(application.created_at.timestamp()) if application.created_at else None,
    }
    if client_secret is not None:
        body["client_secret"] = client_secret
    return body


async def enabled_connections(svc: Services, application: Application) -> list[str]:
    sources = await svc.durable.enabled_identity_sources(application.pool_id, application.client_id)
    return [source.unique_id for source in sources]


async def list_applications(svc: Services, pool_slug: str) -> list[Application]:
    pool = await load_pool(svc, pool_slug, fresh=True)
    return await svc.durable.list_applications(pool.id)


async def get_application(svc: Services, pool_slug: str, client_id: str) -> Application:
    return await load_application(svc, await load_pool(svc, pool_slug, fresh=True), client_id)


async def create_application(
    svc: Services, actor: Actor, pool_slug: str, fields: Mapping[str, object]
) -> tuple[Application, str | None]:
    """The new application and, for a web application, its client secret (shown only now)."""
    pool = await load_pool(svc, pool_slug, fresh=True)
    # 24 hexadecimal digits: unguessable enough to keep pools apart, short enough to paste.
    application = new_application(pool.id, secrets.token_hex(12), fields)
    secret = None
    if application.type is ApplicationType.WEB:
        secret = new_secret()
        application.client_secret_hash = digest(secret)
    application = await svc.durable.create_application(application)
    await svc.config.changed()
    await record(
        svc,
        actor,
        "application.created",
        pool_id=pool.id,
        subject=application.client_id,
        type=application.type.value,
    )
    return application, secret


async def update_application(
    svc: Services, actor: Actor, pool_slug: str, client_id: str, fields: Mapping[str, object]
) -> Application:
    pool = await load_pool(svc, pool_slug, fresh=True)
    current = await load_application(svc, pool, client_id, fresh=True)
    application = changed_application(current, fields)
    changed = changed_fields(current, application)
    if not changed:
        return current
    application = await svc.durable.update_application(application)
    await svc.config.changed()
    await record(
        svc, actor, "application.updated", pool_id=pool.id, subject=client_id, changed=changed
    )
    return application


async def rotate_secret(
    svc: Services, actor: Actor, pool_slug: str, client_id: str
) -> tuple[Application, str]:
    """A new client secret; the old one stops working at once."""
    pool = await load_pool(svc, pool_slug, fresh=True)
    application = await load_application(svc, pool, client_id, fresh=True)
    if application.type is not ApplicationType.WEB:
        raise InvalidRequest("no_client_secret")
    secret = new_secret()
    application.client_secret_hash = digest(secret)
    application = await svc.durable.update_application(application)
    await svc.config.changed()
    await record(svc, actor, "application.secret_rotated", pool_id=pool.id, subject=client_id)
    return application, secret


async def delete_application(svc: Services, actor: Actor, pool_slug: str, client_id: str) -> None:
    pool = await load_pool(svc, pool_slug, fresh=True)
    await svc.durable.delete_application(pool.id, client_id)
    await svc.config.changed()
    await record(svc, actor, "application.deleted", pool_id=pool.id, subject=client_id)


async def switch_connection(
    svc: Services, actor: Actor, pool_slug: str, client_id: str, unique_id: str, enabled: bool
) -> None:
    """Offer (or stop offering) the identity source to the application's users."""
    pool = await load_pool(svc, pool_slug, fresh=True)
    if enabled:
        await svc.durable.enable_identity_source(pool.id, client_id, unique_id)
        await svc.config.changed()
    else:
        await svc.durable.disable_identity_source(pool.id, client_id, unique_id)
        await svc.config.changed()
    await record(
        svc,
        actor,
        "connection.enabled" if enabled else "connection.disabled",
        pool_id=pool.id,
        subject=unique_id,
        client_id=client_id,
    )
