"""Prepares what the mini program's node tests need beyond the demo seed, in the data folder a
``minilogin dev`` is about to serve: a pool with one application per account rule the result
screens depend on, and a blocked account.

Run it with the server's environment (``MINILOGIN_DATA_DIR``, ``MINILOGIN_PUBLIC_URL``) before
the server starts. It writes through the durable stores' own interfaces, as the admin API does;
it prints what it made as JSON for the tests to read.
"""

from __future__ import annotations

import asyncio
import json

from minilogin.config import Settings
from minilogin.core.entities import (
    Application,
    ApplicationType,
    Association,
    IdentitySource,
    LoginMode,
    Pool,
    User,
)
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql.migrate import upgrade_async
from minilogin.storage.sql.stores import SqlStores

POOL = "mpcases"
BLOCKED_PHONE = "+8613700137000"

# client_id (also the identity source's unique_id) -> (login mode, association, code lifetime)
APPLICATIONS = {
    "login-only": (LoginMode.LOGIN_ONLY, Association.FIELD_MATCH, 120),
    "no-association": (LoginMode.LOGIN_AND_REGISTER, Association.OFF, 120),
    "ask-binding": (LoginMode.LOGIN_AND_REGISTER, Association.ASK_BINDING, 120),
    # Codes that expire within seconds, below the console's 30 s minimum (a rule of the admin
    # API, not of the store): the expired screens without a long wait.
    "short-lived": (LoginMode.LOGIN_AND_REGISTER, Association.FIELD_MATCH, 3),
}


async def prepare(settings: Settings) -> dict[str, object]:
    await upgrade_async(settings.database_url)
    store = await SqlStores.open(settings.database_url, SecretBox(settings.resolved_secret_key()))
    try:
        pool = await store.pools.create_pool(Pool(slug=POOL, name="mini program cases"))
        for client_id, (login_mode, association, lifetime) in APPLICATIONS.items():
            await store.applications.create_application(
                Application(
                    pool_id=pool.id,
                    client_id=client_id,
                    name=f"Cases {client_id}",
                    type=ApplicationType.SPA,
                    web_origins=[settings.public_url],
                )
            )
            await store.identity_sources.create_identity_source(
                IdentitySource(
                    pool_id=pool.id,
                    unique_id=client_id,
                    display_name=client_id,
                    login_mode=login_mode,
                    association=association,
                    qr_expires_in=lifetime,
                )
            )
            await store.identity_sources.enable_identity_source(pool.id, client_id, client_id)
        await store.users.create_user(
            User(pool_id=pool.id, phone=BLOCKED_PHONE, phone_verified=True, blocked=True)
        )
    finally:
        await store.close()
    return {"pool": POOL, "applications": sorted(APPLICATIONS), "blocked_phone": BLOCKED_PHONE}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(prepare(Settings()))))
