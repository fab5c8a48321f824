"""Applications (OAuth clients) of a pool, and which identity sources each one offers.

A web application's client secret is shown once, when it is made (at creation or rotation);
the store keeps only its SHA-256 digest, which is what the token endpoint compares.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from minilogin.admin import Actor, record
from minilogin.core.applications import changed_application, changed_fields, new_application
from minilogin.core.entities import Application, ApplicationType
from minilogin.core.errors import InvalidRequest
from minilogin.core.tokens import digest, new_secret
from minilogin.lookups import load_application, load_pool
from minilogin.ports import (
    ApplicationStore,
    AuditRecorder,
    ConfigInvalidation,
    IdentitySourceStore,
    PoolStore,
)


@dataclass(frozen=True, slots=True)
class ApplicationPorts:
    pools: PoolStore
    applications: ApplicationStore
    sources: IdentitySourceStore
    config: ConfigInvalidation
    audit: AuditRecorder


async def enabled_connections(sources: IdentitySourceStore, application: Application) -> list[str]:
    enabled = await sources.enabled_identity_sources(application.pool_id, application.client_id)
    return [source.unique_id for source in enabled]


async def list_applications(ports: ApplicationPorts, pool_slug: str) -> list[Application]:
    pool = await load_pool(ports.pools, pool_slug)
    return await ports.applications.list_applications(pool.id)


async def get_application(ports: ApplicationPorts, pool_slug: str, client_id: str) -> Application:
    pool = await load_pool(ports.pools, pool_slug)
    return await load_application(ports.applications, pool, client_id)


async def create_application(
    ports: ApplicationPorts, actor: Actor, pool_slug: str, fields: Mapping[str, object]
) -> tuple[Application, str | None]:
    """The new application and, for a web application, its client secret (shown only now)."""
    pool = await load_pool(ports.pools, pool_slug)
    # 24 hexadecimal digits: unguessable enough to keep pools apart, short enough to paste.
    application = new_application(pool.id, secrets.token_hex(12), fields)
    secret = None
    if application.type is ApplicationType.WEB:
        secret = new_secret()
        application.client_secret_hash = digest(secret)
    application = await ports.applications.create_application(application)
    await ports.config.changed()
    await record(
        ports.audit,
        actor,
        "application.created",
        pool_id=pool.id,
        subject=application.client_id,
        type=application.type.value,
    )
    return application, secret


async def update_application(
    ports: ApplicationPorts,
    actor: Actor,
    pool_slug: str,
    client_id: str,
    fields: Mapping[str, object],
) -> Application:
    pool = await load_pool(ports.pools, pool_slug)
    current = await load_application(ports.applications, pool, client_id)
    application = changed_application(current, fields)
    changed = changed_fields(current, application)
    if not changed:
        return current
    application = await ports.applications.update_application(application)
    await ports.config.changed()
    await record(
        ports.audit,
        actor,
        "application.updated",
        pool_id=pool.id,
        subject=client_id,
        changed=changed,
    )
    return application


async def rotate_secret(
    ports: ApplicationPorts, actor: Actor, pool_slug: str, client_id: str
) -> tuple[Application, str]:
    """A new client secret; the old one stops working at once."""
    pool = await load_pool(ports.pools, pool_slug)
    application = await load_application(ports.applications, pool, client_id)
    if application.type is not ApplicationType.WEB:
        raise InvalidRequest("no_client_secret")
    secret = new_secret()
    application.client_secret_hash = digest(secret)
    application = await ports.applications.update_application(application)
    await ports.config.changed()
    await record(
        ports.audit, actor, "application.secret_rotated", pool_id=pool.id, subject=client_id
    )
    return application, secret


async def delete_application(
    ports: ApplicationPorts, actor: Actor, pool_slug: str, client_id: str
) -> None:
    pool = await load_pool(ports.pools, pool_slug)
    await ports.applications.delete_application(pool.id, client_id)
    await ports.config.changed()
    await record(ports.audit, actor, "application.deleted", pool_id=pool.id, subject=client_id)


async def switch_connection(
    ports: ApplicationPorts,
    actor: Actor,
    pool_slug: str,
    client_id: str,
    unique_id: str,
    enabled: bool,
) -> None:
    """Offer (or stop offering) the identity source to the application's users."""
    pool = await load_pool(ports.pools, pool_slug)
    if enabled:
        await ports.sources.enable_identity_source(pool.id, client_id, unique_id)
        await ports.config.changed()
    else:
        await ports.sources.disable_identity_source(pool.id, client_id, unique_id)
        await ports.config.changed()
    await record(
        ports.audit,
        actor,
        "connection.enabled" if enabled else "connection.disabled",
        pool_id=pool.id,
        subject=unique_id,
        client_id=client_id,
    )
