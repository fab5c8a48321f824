"""User pools: each is an issuer of its own, with its applications, sources and users."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from minilogin.admin import Actor, record
from minilogin.core.applications import changed_pool, new_pool
from minilogin.core.entities import Pool
from minilogin.login.qrlogin import iso, load_pool
from minilogin.wiring import Services


def pool_body(svc: Services, pool: Pool) -> dict[str, Any]:
    return {
        "slug": pool.slug,
        "name": pool.name,
        "logo_url": pool.logo_url,
        "issuer": svc.settings.issuer(pool.slug),
        "created_at": iso(pool.created_at.timestamp()) if pool.created_at else None,
    }


async def list_pools(svc: Services) -> list[Pool]:
    return await svc.durable.list_pools()


async def get_pool(svc: Services, slug: str) -> Pool:
    return await load_pool(svc, slug, fresh=True)


async def create_pool(svc: Services, actor: Actor, fields: Mapping[str, object]) -> Pool:
    pool = await svc.durable.create_pool(new_pool(fields))
    await svc.config.changed()
    await record(svc, actor, "pool.created", pool_id=pool.id, subject=pool.slug)
    return pool


async def update_pool(svc: Services, actor: Actor, slug: str, fields: Mapping[str, object]) -> Pool:
    current = await load_pool(svc, slug, fresh=True)
    pool = changed_pool(current, fields)
    changed = [
        name for name in ("name", "logo_url") if getattr(current, name) != getattr(pool, name)
    ]
    if not changed:
        return current
    pool = await svc.durable.update_pool(pool)
    await svc.config.changed()
    await record(svc, actor, "pool.updated", pool_id=pool.id, subject=slug, changed=changed)
    return pool


async def delete_pool(svc: Services, actor: Actor, slug: str) -> None:
    pool = await load_pool(svc, slug, fresh=True)
    await svc.durable.delete_pool(pool.id)
    await svc.config.changed()
    await record(svc, actor, "pool.deleted", pool_id=pool.id, subject=slug)
