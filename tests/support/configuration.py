"""Configuration the browser tests set up in the durable stores before a person scans."""

from __future__ import annotations

from minilogin.core.entities import Application, Association, IdentitySource, Pool
from minilogin.wiring import Services


async def ask_binding_application(
    services: Services, origin: str, *, client_id: str, name: str, connection: str
) -> Pool:
    """In the demo pool: a web application at ``origin`` whose only source asks a person
    with no linked account to bind one (association "ask binding"); the pool, for users."""
    pool = await services.pools.get_pool("demo")
    assert pool is not None
    await services.identity_sources.create_identity_source(
        IdentitySource(
            pool_id=pool.id,
            unique_id=connection,
            display_name="扫码绑定",
            association=Association.ASK_BINDING,
        )
    )
    await services.applications.create_application(
        Application(pool_id=pool.id, client_id=client_id, name=name, web_origins=[origin])
    )
    await services.identity_sources.enable_identity_source(pool.id, client_id, connection)
    return pool
