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
from typing import Any

from minilogin.admin import Actor, record
from minilogin.core.connection import changed_fields, changed_source, new_source
from minilogin.core.entities import Application, IdentitySource
from minilogin.core.errors import InvalidFields, InvalidRequest, NotFound, UpstreamError
from minilogin.images import normalise_logo
from minilogin.login.qrlogin import iso, load_pool
from minilogin.wechat.types import MiniProgram
from minilogin.wiring import Services

#: Logos larger than this are refused before they are decoded (``images.normalise_logo``).
MAX_LOGO_BYTES = 2 * 1024 * 1024
#: WeChat's errcode for an AppID it does not know ("不合法的 AppID"); every other rejection of
#: the credentials is about the AppSecret (40125 "invalid appsecret", 40001).
UNKNOWN_APP_ID = 40013


def logo_url(svc: Services, pool_slug: str, source: IdentitySource) -> str | None:
    if source.logo is None:
        return None
    base = f"{svc.settings.issuer(pool_slug)}/connections/{source.unique_id}/logo.png"
    # The version in the URL lets browsers cache each logo for as long as they like.
    return f"{base}?v={source.logo_version}"


def connection_body(
    svc: Services, pool_slug: str, source: IdentitySource, applications: list[Application]
) -> dict[str, Any]:
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
        "logo_url": logo_url(svc, pool_slug, source),
        "applications": [application.client_id for application in applications],
        "created_at": iso(source.created_at.timestamp()) if source.created_at else None,
    }


async def connection_answer(
    svc: Services, pool_slug: str, source: IdentitySource, applications: list[Application]
) -> dict[str, Any]:
    """The admin API's body of a source: its fields and whether codes can be made for it."""
    body = connection_body(svc, pool_slug, source, applications)
    body["code_error"] = await code_error(svc, source)
    return body


async def code_error(svc: Services, source: IdentitySource) -> dict[str, Any] | None:
    """Why no codes can be made for the source, when WeChat refused its page (errcode
    41030: the page is not in the released mini program): a configuration error for the
    administrator to fix; ``None`` while codes are made."""
    refused = await svc.codepool.page_error(source)
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


async def check_credentials(
    svc: Services, before: IdentitySource | None, source: IdentitySource
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
        await svc.tokens.get(MiniProgram(source.app_id, source.app_secret))
    except UpstreamError as error:
        if error.code != "wechat_invalid_credentials":
            raise
        code = "app_id_rejected" if error.errcode == UNKNOWN_APP_ID else "app_secret_rejected"
        raise InvalidFields([InvalidRequest(code)]) from error


async def load_source(svc: Services, pool_id: str, unique_id: str) -> IdentitySource:
    source = await svc.durable.get_identity_source(pool_id, unique_id)
    if source is None:
        raise NotFound("unknown_connection")
    return source


async def list_connections(
    svc: Services, pool_slug: str
) -> list[tuple[IdentitySource, list[Application]]]:
    pool = await load_pool(svc, pool_slug, fresh=True)
    sources = await svc.durable.list_identity_sources(pool.id)
    return [
        (source, await svc.durable.applications_using(pool.id, source.unique_id))
        for source in sources
    ]


async def get_connection(
    svc: Services, pool_slug: str, unique_id: str
) -> tuple[IdentitySource, list[Application]]:
    """The source and the applications it is enabled for."""
    pool = await load_pool(svc, pool_slug, fresh=True)
    source = await load_source(svc, pool.id, unique_id)
    return source, await svc.durable.applications_using(pool.id, unique_id)


async def create_connection(
    svc: Services,
    actor: Actor,
    pool_slug: str,
    fields: Mapping[str, object],
    *,
    test_connection: bool = True,
) -> IdentitySource:
    pool = await load_pool(svc, pool_slug, fresh=True)
    source = new_source(pool.id, fields)
    if "qr_expires_in" not in fields:
        source.qr_expires_in = svc.settings.qr_expires_in
    if test_connection:
        await check_credentials(svc, None, source)
    source = await svc.durable.create_identity_source(source)
    await svc.config.changed()
    await record(
        svc,
        actor,
        "connection.created",
        pool_id=pool.id,
        subject=source.unique_id,
        private_deployment=source.private_deployment,
        app_id=source.app_id,
    )
    return source


async def update_connection(
    svc: Services, actor: Actor, pool_slug: str, unique_id: str, fields: Mapping[str, object]
) -> IdentitySource:
    pool = await load_pool(svc, pool_slug, fresh=True)
    current = await load_source(svc, pool.id, unique_id)
    source = changed_source(current, fields)
    changed = changed_fields(current, source)
    if not changed:
        return current
    await check_credentials(svc, current, source)
    source = await svc.durable.update_identity_source(source)
    await svc.config.changed()
    await record(
        svc, actor, "connection.updated", pool_id=pool.id, subject=unique_id, changed=changed
    )
    return source


async def delete_connection(svc: Services, actor: Actor, pool_slug: str, unique_id: str) -> None:
    pool = await load_pool(svc, pool_slug, fresh=True)
    await svc.durable.delete_identity_source(pool.id, unique_id)
    await svc.config.changed()
    await record(svc, actor, "connection.deleted", pool_id=pool.id, subject=unique_id)


async def set_logo(
    svc: Services, actor: Actor, pool_slug: str, unique_id: str, image: bytes | None
) -> IdentitySource:
    """Store the logo, decoded and re-encoded (``None`` removes it)."""
    pool = await load_pool(svc, pool_slug, fresh=True)
    await load_source(svc, pool.id, unique_id)
    # Decoding and resampling take a while for a large picture: not on the event loop.
    logo = None if image is None else await asyncio.to_thread(normalise_logo, image, MAX_LOGO_BYTES)
    source = await svc.durable.set_identity_source_logo(pool.id, unique_id, logo)
    await svc.config.changed()
    await record(
        svc,
        actor,
        "connection.logo_changed" if logo is not None else "connection.logo_removed",
        pool_id=pool.id,
        subject=unique_id,
        logo_version=source.logo_version,
    )
    return source


async def logo(svc: Services, pool_slug: str, unique_id: str) -> IdentitySource:
    """The source whose logo is asked for; ``NotFound`` when it has none."""
    pool = await load_pool(svc, pool_slug, fresh=True)
    source = await load_source(svc, pool.id, unique_id)
    if source.logo is None:
        raise NotFound("no_logo")
    return source
