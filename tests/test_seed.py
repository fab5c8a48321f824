"""The demo seed of ``minilogin dev``: idempotent, and following the address it runs on."""

from __future__ import annotations

from pathlib import Path

from minilogin.config import Settings
from minilogin.seed import DEMO_CLIENT, DEMO_POOL, seed_demo
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStore, upgrade_async


async def test_seeding_again_keeps_one_demo_and_follows_a_new_address(tmp_path: Path) -> None:
    first = Settings(public_url="http://127.0.0.1:8000", data_dir=tmp_path)
    await upgrade_async(first.database_url)
    store = await SqlStore.open(first.database_url, SecretBox("k" * 32))
    try:
        await seed_demo(store, first)
        await seed_demo(store, first)
        moved = Settings(public_url="http://192.168.1.20:9000", data_dir=tmp_path)
        await seed_demo(store, moved)
        pool = await store.get_pool(DEMO_POOL)
        assert pool is not None
        assert [p.slug for p in await store.list_pools()] == [DEMO_POOL]
        assert [a.client_id for a in await store.list_applications(pool.id)] == [DEMO_CLIENT]
        application = await store.get_application(pool.id, DEMO_CLIENT)
        assert application is not None
        assert application.web_origins == ["http://192.168.1.20:9000"]
        assert application.redirect_uris == ["http://192.168.1.20:9000/demo/callback"]
        sources = await store.enabled_identity_sources(pool.id, DEMO_CLIENT)
        assert [s.unique_id for s in sources] == ["wechat-mp-qrcode"]
    finally:
        await store.close()
