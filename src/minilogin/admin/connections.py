"""Identity sources ("WeChat · PC mini program scan code") of a pool, and their logos.

A new logo or AppID applies to the codes generated after the change: each QR login keeps the
AppID it was made for, and its image is cached under the logo version it was drawn with.

A private deployment's AppID and AppSecret are tested against WeChat before they are saved
(``getStableAccessToken``, ``POST cgi-bin/stable_token``): a wrong pair is refused at once, on
the field it is about, instead of surfacing later as codes that never appear.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from minilogin.admin import Actor, record
from minilogin.core.connection import changed_fields, changed_source, new_source
from minilogin.core.entities import Application, IdentitySource
from minilogin.core.errors import InvalidFields, InvalidRequest, NotFound, UpstreamError
from minilogin.images import normalise_logo
from minilogin.lookups import load_pool
from minilogin.ports import (
    AuditRecorder,
    CodeStatus,
    ConfigInvalidation,
    CredentialTest,
    IdentitySourceStore,
    PageRefusal,
    PoolStore,
)

#: Logos larger than this are refused before they are decoded (``images.normalise_logo``).
MAX_LOGO_BYTES = 2 * 1024 * 1024
#: WeChat's errcode for an AppID it does not know ("不合法的 AppID"); every other rejection of
#: the credentials is about the AppSecret (40125 "invalid appsecret", 40001).
UNKNOWN_APP_ID = 40013


@dataclass(frozen=True, slots=True)
class ConnectionPorts:
    pools: PoolStore
    sources: IdentitySourceStore
    config: ConfigInvalidation
    audit: AuditRecorder
    #: Tests a private deployment's AppID and AppSecret against WeChat.
    test_credentials: CredentialTest
    codes: CodeStatus
    #: The code lifetime of a source created without one (``MINILOGIN_QR_EXPIRES_IN``).
    qr_expires_in: int


async def code_error(codes: CodeStatus, source: IdentitySource) -> PageRefusal | None:
    """Why no codes can be made for the source, when WeChat refused its page (errcode
    41030: the page is not in the released mini program): a configuration error for the
    administrator to fix; ``None`` while codes are made."""
    return await codes.page_error(source)


async def check_credentials(
    test_credentials: CredentialTest, before: IdentitySource | None, source: IdentitySource
) -> None:
    """The test connection: ask WeChat for an access token with the pair about to be saved,
    unless it is the pair already saved. Refused credentials become errors of their fields;
    WeChat being unreachable or refusing for another reason (an IP allowlist) answers as
    itself, and nothing is saved either way."""
    if not source.private_deployment or source.app_id is None or source.app_secret is None:
        return
    if (
        before is not None
        and before.private_deployment
        and (before.app_id, before.app_secret) == (source.app_id, source.app_secret)
    ):
        return
    try:
        await test_credentials(source.app_id, source.app_secret)
    except UpstreamError as error:
        if error.code != "wechat_invalid_credentials":
            raise
        code = "app_id_rejected" if error.errcode == UNKNOWN_APP_ID else "app_secret_rejected"
        raise InvalidFields([InvalidRequest(code)]) from error


async def load_source(sources: IdentitySourceStore, pool_id: str, unique_id: str) -> IdentitySource:
    source = await sources.get_identity_source(pool_id, unique_id)
    if source is None:
        raise NotFound("unknown_connection")
    return source


async def list_connections(
    pools: PoolStore, sources: IdentitySourceStore, pool_slug: str
) -> list[tuple[IdentitySource, list[Application]]]:
    """Every source of the pool with the applications it is enabled for."""
    pool = await load_pool(pools, pool_slug)
    return [
        (source, await sources.applications_using(pool.id, source.unique_id))
        for source in await sources.list_identity_sources(pool.id)
    ]


async def get_connection(
    pools: PoolStore, sources: IdentitySourceStore, pool_slug: str, unique_id: str
) -> tuple[IdentitySource, list[Application]]:
    """The source and the applications it is enabled for."""
    pool = await load_pool(pools, pool_slug)
    source = await load_source(sources, pool.id, unique_id)
    return source, await sources.applications_using(pool.id, unique_id)


async def create_connection(
    ports: ConnectionPorts,
    actor: Actor,
    pool_slug: str,
    fields: Mapping[str, object],
    *,
    test_connection: bool = True,
) -> IdentitySource:
    pool = await load_pool(ports.pools, pool_slug)
    source = new_source(pool.id, fields)
    if "qr_expires_in" not in fields:
        source.qr_expires_in = ports.qr_expires_in
    if test_connection:
        await check_credentials(ports.test_credentials, None, source)
    source = await ports.sources.create_identity_source(source)
    await ports.config.changed()
    await record(
        ports.audit,
        actor,
        "connection.created",
        pool_id=pool.id,
        subject=source.unique_id,
        private_deployment=source.private_deployment,
        app_id=source.app_id,
    )
    return source


async def update_connection(
    ports: ConnectionPorts,
    actor: Actor,
    pool_slug: str,
    unique_id: str,
    fields: Mapping[str, object],
) -> IdentitySource:
    pool = await load_pool(ports.pools, pool_slug)
    current = await load_source(ports.sources, pool.id, unique_id)
    source = changed_source(current, fields)
    changed = changed_fields(current, source)
    if not changed:
        return current
    await check_credentials(ports.test_credentials, current, source)
    source = await ports.sources.update_identity_source(source)
    await ports.config.changed()
    await record(
        ports.audit,
        actor,
        "connection.updated",
        pool_id=pool.id,
        subject=unique_id,
        changed=changed,
    )
    return source


async def delete_connection(
    ports: ConnectionPorts, actor: Actor, pool_slug: str, unique_id: str
) -> None:
    pool = await load_pool(ports.pools, pool_slug)
    await ports.sources.delete_identity_source(pool.id, unique_id)
    await ports.config.changed()
    await record(ports.audit, actor, "connection.deleted", pool_id=pool.id, subject=unique_id)


async def set_logo(
    ports: ConnectionPorts, actor: Actor, pool_slug: str, unique_id: str, image: bytes | None
) -> IdentitySource:
    """Store the logo, decoded and re-encoded (``None`` removes it)."""
    pool = await load_pool(ports.pools, pool_slug)
    await load_source(ports.sources, pool.id, unique_id)
    # Decoding and resampling take a while for a large picture: not on the event loop.
    logo = None if image is None else await asyncio.to_thread(normalise_logo, image, MAX_LOGO_BYTES)
    source = await ports.sources.set_identity_source_logo(pool.id, unique_id, logo)
    await ports.config.changed()
    await record(
        ports.audit,
        actor,
        "connection.logo_changed" if logo is not None else "connection.logo_removed",
        pool_id=pool.id,
        subject=unique_id,
        logo_version=source.logo_version,
    )
    return source


async def logo(
    pools: PoolStore, sources: IdentitySourceStore, pool_slug: str, unique_id: str
) -> IdentitySource:
    """The source whose logo is asked for; ``NotFound`` when it has none."""
    pool = await load_pool(pools, pool_slug)
    source = await load_source(sources, pool.id, unique_id)
    if source.logo is None:
        raise NotFound("no_logo")
    return source
