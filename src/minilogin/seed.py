"""The demo seed of ``minilogin dev`` (API.md §5), safe to run at every start."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import replace

from minilogin.config import Settings
from minilogin.core.entities import (
    Admin,
    Application,
    ApplicationType,
    Association,
    IdentitySource,
    LoginMode,
    Pool,
)
from minilogin.core.errors import Conflict
from minilogin.ports import AdminStore, ApplicationStore, IdentitySourceStore, PoolStore
from minilogin.storage.crypto import hash_password, verify_password

DEMO_POOL = "demo"
DEMO_CLIENT = "demo"
DEMO_CONNECTION = "wechat-mp-qrcode"
DEV_ADMIN = "admin"
#: Where ``minilogin dev`` keeps the password it generated for ``admin`` (like ``secret.key``).
DEV_ADMIN_PASSWORD_FILE = "admin-password"  # noqa: S105 - a file name


async def seed_demo(
    pools: PoolStore,
    applications: ApplicationStore,
    identity_sources: IdentitySourceStore,
    settings: Settings,
) -> None:
    """Create what is missing of the demo pool, application and identity source. Another
    instance seeding at the same moment makes a create answer ``Conflict``: then the row is
    there, which is all that was wanted."""
    pool = await pools.get_pool(DEMO_POOL)
    if pool is None:
        with contextlib.suppress(Conflict):
            await pools.create_pool(Pool(slug=DEMO_POOL, name="minilogin 演示 / demo"))
        pool = await pools.get_pool(DEMO_POOL)
    assert pool is not None
    redirect_uris = [f"{settings.public_url}/demo/callback"]
    web_origins = [settings.public_url]
    logout_uris = [f"{settings.public_url}/demo/"]
    application = await applications.get_application(pool.id, DEMO_CLIENT)
    if application is None:
        with contextlib.suppress(Conflict):
            await applications.create_application(
                Application(
                    pool_id=pool.id,
                    client_id=DEMO_CLIENT,
                    name="演示应用 Demo app",
                    type=ApplicationType.SPA,
                    redirect_uris=redirect_uris,
                    web_origins=web_origins,
                    post_logout_redirect_uris=logout_uris,
                )
            )
    elif (application.redirect_uris, application.web_origins) != (redirect_uris, web_origins):
        # Started again on another address: the demo page must be its own app's origin.
        await applications.update_application(
            replace(
                application,
                redirect_uris=redirect_uris,
                web_origins=web_origins,
                post_logout_redirect_uris=logout_uris,
            )
        )
    if await identity_sources.get_identity_source(pool.id, DEMO_CONNECTION) is None:
        with contextlib.suppress(Conflict):
            await identity_sources.create_identity_source(
                IdentitySource(
                    pool_id=pool.id,
                    unique_id=DEMO_CONNECTION,
                    display_name="微信扫码登录",
                    login_mode=LoginMode.LOGIN_AND_REGISTER,
                    association=Association.FIELD_MATCH,
                    qr_expires_in=settings.qr_expires_in,
                )
            )
    await identity_sources.enable_identity_source(pool.id, DEMO_CLIENT, DEMO_CONNECTION)


async def seed_admin(admins: AdminStore, settings: Settings) -> str | None:
    """Create the console's ``admin`` when there is none, with a generated password kept in
    the data folder. Answers that password while it is still the admin's, else None: one
    changed since (``minilogin admin set-password``) is not ours to print."""
    path = settings.data_dir / DEV_ADMIN_PASSWORD_FILE
    admin = await admins.find_admin(DEV_ADMIN)
    if admin is None:
        password = secrets.token_urlsafe(12)
        try:
            admin = await admins.create_admin(
                Admin(username=DEV_ADMIN, password_hash=hash_password(password))
            )
        except Conflict:
            # Another instance seeded it a moment ago, and keeps the password itself.
            return None
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(password)
        path.chmod(0o600)
        return password
    known = path.read_text().strip() if path.exists() else ""
    return known if known and verify_password(admin.password_hash, known) else None
