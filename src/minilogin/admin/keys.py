"""Rotating a pool's signing keys (issue #13): ``minilogin admin rotate-keys POOL``.

The pool gets a new current key of each algorithm at once. The keys before them stay published
and verifying for an overlap as long as the longest token they may have signed can live: the
longest ID or access token lifetime of the pool's applications, plus the configuration cache's
time to live, during which an instance that has not read the new keys yet still signs with the
old ones. After that they leave the JWKS (and the next rotation deletes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from minilogin.admin import Actor, record
from minilogin.core.entities import SigningKey
from minilogin.lookups import load_pool
from minilogin.oidc.keys import rotate
from minilogin.ports import (
    ApplicationStore,
    AuditRecorder,
    Clock,
    ConfigInvalidation,
    PoolStore,
    SigningKeyStore,
)


@dataclass(frozen=True, slots=True)
class KeyPorts:
    pools: PoolStore
    applications: ApplicationStore
    keys: SigningKeyStore
    config: ConfigInvalidation
    audit: AuditRecorder
    clock: Clock
    #: How long an instance may go on with the keys it read (``MINILOGIN_CONFIG_CACHE_TTL``).
    cache_ttl: float


@dataclass(frozen=True, slots=True)
class Rotation:
    keys: list[SigningKey]
    #: When the keys before them stop verifying and leave the JWKS.
    previous_retire_at: datetime


async def rotate_keys(ports: KeyPorts, actor: Actor, slug: str) -> Rotation:
    pool = await load_pool(ports.pools, slug)
    lifetimes = [
        max(application.id_token_lifetime, application.access_token_lifetime)
        for application in await ports.applications.list_applications(pool.id)
    ]
    overlap = timedelta(seconds=max(lifetimes, default=0) + ports.cache_ttl)
    now = datetime.fromtimestamp(ports.clock(), UTC)
    made = await rotate(ports.keys, pool.id, overlap, now)
    # Instances listening on the change channel read the new keys now; the others within the
    # cache's time to live, which the overlap covers.
    await ports.config.changed()
    kids = {key.algorithm: key.kid for key in made}
    await record(ports.audit, actor, "keys.rotated", pool_id=pool.id, subject=slug, kids=kids)
    return Rotation(made, now + overlap)
