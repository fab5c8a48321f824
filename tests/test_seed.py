"""The demo seed of ``minilogin dev``: idempotent, and following the address it runs on."""

from __future__ import annotations

from pathlib import Path

from minilogin.config import Settings
from minilogin.seed import DEMO_CLIENT, DEMO_POOL, seed_demo
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStores, upgrade_async


async def test_seeding_again_keeps_one_demo_and_follows_a_new_address(tmp_path: Path) -> None:
    first = Settings(public_url="http://127.0.0.1:8000", data_dir=tmp_path)
    await upgrade_async(first.database_url)
    store = await SqlStores.open(first.database_url, SecretBox("k" * 32))
    try:
        await seed_demo(store.pools, store.applications, store.identity_sources, first)
        await seed_demo(store.pools, store.applications, store.identity_sources, first)
        moved = Settings(public_url="http://192.168.1.20:9000", data_dir=tmp_path)
        await seed_demo(store.pools, store.applications, store.identity_sources, moved)
        pool = await store.pools.get_pool(DEMO_POOL)
        assert pool is not None
        assert [p.slug for p in await store.pools.list_pools()] == [DEMO_POOL]
        assert [a.client_id for a in await store.applications.list_applications(pool.id)] == [
            DEMO_CLIENT
        ]
        application = await store.applications.get_application(pool.id, DEMO_CLIENT)
        assert application is not None
        assert application.web_origins == ["http://192.168.1.20:9000"]
        assert application.redirect_uris == ["http://192.168.1.20:9000/demo/callback"]
        sources = await store.identity_sources.enabled_identity_sources(pool.id, DEMO_CLIENT)
        assert [s.unique_id for s in sources] == ["wechat-mp-qrcode"]
    finally:
        await store.close()
