"""Rotating a pool's signing keys (issue #13): ``minilogin admin rotate-keys POOL``.

The pool gets a new current key of each algorithm at once. The keys before them stay published
and verifying for an overlap as long as the longest token they may have signed can live: the
longest ID or access token lifetime of the pool's applications, plus the configuration cache's
time to live, during which an instance that has not read the new keys yet still signs with the
old ones. After that they leave the JWKS (and the next rotation deletes them).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from minilogin.admin import Actor, record
from minilogin.login.qrlogin import iso, load_pool
from minilogin.oidc.keys import rotate
from minilogin.wiring import Services


async def rotate_keys(svc: Services, actor: Actor, slug: str) -> dict[str, Any]:
    pool = await load_pool(svc, slug, fresh=True)
    lifetimes = [
        max(application.id_token_lifetime, application.access_token_lifetime)
        for application in await svc.durable.list_applications(pool.id)
    ]
    overlap = timedelta(seconds=max(lifetimes, default=0) + svc.settings.config_cache_ttl)
    now = svc.clock()
    made = await rotate(svc.durable, pool.id, overlap, datetime.fromtimestamp(now, UTC))
    # Instances listening on the change channel read the new keys now; the others within the
    # cache's time to live, which the overlap covers.
    await svc.config.changed()
    kids = {key.algorithm: key.kid for key in made}
    await record(svc, actor, "keys.rotated", pool_id=pool.id, subject=slug, kids=kids)
    return {
        "pool": slug,
        "kids": kids,
        "previous_keys_retire_at": iso(now + overlap.total_seconds()),
    }
