"""The lookups and renderings that the login floor (``login/``), administration (``admin/``)
and the web floor share: a pool or application by its public name, an instant as the API
writes it, and where an identity source's logo is served.

A neutral home below both floors, so that neither imports the other for them. Each lookup
receives the one reader it uses: the configuration cache on the login path, the durable store
itself where the caller changes what it reads (administration).
"""

from __future__ import annotations

from datetime import UTC, datetime

from minilogin.core.entities import Application, IdentitySource, Pool
from minilogin.core.errors import NotFound
from minilogin.ports import ApplicationReader, PoolReader


async def load_pool(pools: PoolReader, slug: str) -> Pool:
    """The pool named ``slug``; ``NotFound("unknown_pool")`` when there is none."""
    pool = await pools.get_pool(slug)
    if pool is None:
        raise NotFound("unknown_pool")
    return pool


async def load_application(
    applications: ApplicationReader, pool: Pool, client_id: str
) -> Application:
    """The pool's application ``client_id``; ``NotFound("unknown_client")`` when there is
    none."""
    application = await applications.get_application(pool.id, client_id)
    if application is None:
        raise NotFound("unknown_client")
    return application


def iso(ts: float) -> str:
    """An instant as the API writes it: UTC, to the second (RFC 3339)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def logo_url(issuer: str, source: IdentitySource) -> str | None:
    """Where the pool's ``issuer`` serves the source's logo, if it has one."""
    if source.logo is None:
        return None
    base = f"{issuer}/connections/{source.unique_id}/logo.png"
    # The version in the URL lets browsers cache each logo for as long as they like.
    return f"{base}?v={source.logo_version}"
