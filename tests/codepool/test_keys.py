"""The code pool's keys: one namespace, and no two kinds of key that can name the same one."""

from __future__ import annotations

from minilogin.codepool import keys
from minilogin.codepool.policy import generation_key
from minilogin.core.entities import IdentitySource

SOURCE = IdentitySource(pool_id="pool-1", unique_id="wechat", display_name="WeChat")


def test_every_kind_of_key_is_its_own() -> None:
    generation = generation_key(SOURCE, "wx0123", None)
    assert ":" not in generation  # so a generation never reads as another key's segment

    made = [
        keys.fresh(generation),
        keys.size(generation),
        keys.slot(generation, 0),
        keys.cursor(generation),
        keys.leases(generation, 0),
        keys.fill_lock(generation),
        keys.fill_next(generation),
        keys.swept(generation),
        keys.page_error(SOURCE),
        keys.lease("wx0123", "scene0"),
        keys.budget("wx0123", 0),
        keys.IMAGES_SWEPT,
    ]
    assert len(set(made)) == len(made)
    assert all(key.startswith("codepool:") for key in made)
    assert keys.slot(generation, 1) != keys.slot(generation, 10)
    assert keys.lease("wx0123", "a") != keys.lease("wx0124", "a")
