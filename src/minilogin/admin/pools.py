"""User pools: each is an issuer of its own, with its applications, sources and users."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from minilogin.admin import Actor, record
from minilogin.core.applications import changed_pool, new_pool
from minilogin.core.entities import Pool
from minilogin.lookups import load_pool
from minilogin.ports import AuditRecorder, ConfigInvalidation, PoolStore


@dataclass(frozen=True, slots=True)
class PoolPorts:
    pools: PoolStore
    config: ConfigInvalidation
    audit: AuditRecorder


async def list_pools(pools: PoolStore) -> list[Pool]:
    return await pools.list_pools()


async def get_pool(pools: PoolStore, slug: str) -> Pool:
    return await load_pool(pools, slug)


async def create_pool(ports: PoolPorts, actor: Actor, fields: Mapping[str, object]) -> Pool:
    pool = await ports.pools.create_pool(new_pool(fields))
    await ports.config.changed()
    await record(ports.audit, actor, "pool.created", pool_id=pool.id, subject=pool.slug)
    return pool


async def update_pool(
    ports: PoolPorts, actor: Actor, slug: str, fields: Mapping[str, object]
) -> Pool:
    current = await load_pool(ports.pools, slug)
    pool = changed_pool(current, fields)
    changed = [
        name for name in ("name", "logo_url") if getattr(current, name) != getattr(pool, name)
    ]
    if not changed:
        return current
    pool = await ports.pools.update_pool(pool)
    await ports.config.changed()
    await record(ports.audit, actor, "pool.updated", pool_id=pool.id, subject=slug, changed=changed)
    return pool


async def delete_pool(ports: PoolPorts, actor: Actor, slug: str) -> None:
    pool = await load_pool(ports.pools, slug)
    await ports.pools.delete_pool(pool.id)
    await ports.config.changed()
    await record(ports.audit, actor, "pool.deleted", pool_id=pool.id, subject=slug)
