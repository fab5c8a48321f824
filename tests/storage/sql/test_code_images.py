"""The code image store (``storage/sql/code_images.py``) on every backend of ``stores``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from minilogin.core.entities import CodeImage
from minilogin.storage.sql import SqlStores, code_images


async def test_code_images_are_kept_replaced_and_deleted(stores: SqlStores) -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    png = CodeImage("image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    jpeg = CodeImage("image/jpeg", b"\xff\xd8\xff" + b"\x00\xff" * 5000)
    assert await stores.code_images.get_code_image("wx1", "scene-a") is None

    await stores.code_images.put_code_image("wx1", "scene-a", png, now + timedelta(hours=1))
    await stores.code_images.put_code_image("wx2", "scene-a", jpeg, now + timedelta(hours=1))
    assert await stores.code_images.get_code_image("wx1", "scene-a") == png
    assert await stores.code_images.get_code_image("wx2", "scene-a") == jpeg  # per mini program
    await stores.code_images.put_code_image("wx1", "scene-a", jpeg, now + timedelta(hours=1))
    assert await stores.code_images.get_code_image("wx1", "scene-a") == jpeg  # replaced

    await stores.code_images.delete_code_images("wx1", ["scene-a", "missing"])
    assert await stores.code_images.get_code_image("wx1", "scene-a") is None
    assert await stores.code_images.get_code_image("wx2", "scene-a") == jpeg
    await stores.code_images.delete_code_images("wx1", [])


async def test_more_images_than_a_statement_names_are_deleted_in_one_call(
    stores: SqlStores, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code pool's filler deletes the images of every login ended since its last
    deletion at once: more scenes than one DELETE may bind go in several."""
    monkeypatch.setattr(code_images, "DELETE_CHUNK", 2)
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    image = CodeImage("image/png", b"\x89PNG\r\n\x1a\n")
    scenes = [f"scene-{n}" for n in range(6)]
    for scene in scenes:
        await stores.code_images.put_code_image("wx1", scene, image, now + timedelta(hours=1))

    await stores.code_images.delete_code_images("wx1", [*scenes[:5], "missing"])
    assert [await stores.code_images.get_code_image("wx1", scene) for scene in scenes] == [
        *[None] * 5,
        image,
    ]


async def test_several_code_images_are_stored_in_one_call(stores: SqlStores) -> None:
    until = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
    png = CodeImage("image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    jpeg = CodeImage("image/jpeg", b"\xff\xd8\xff" + b"\x00\xff" * 5000)
    await stores.code_images.put_code_image("wx1", "old", png, until)
    await stores.code_images.put_code_images(
        [("wx1", "a", png, until), ("wx1", "b", jpeg, until), ("wx1", "old", jpeg, until)]
    )
    assert await stores.code_images.get_code_image("wx1", "a") == png
    assert await stores.code_images.get_code_image("wx1", "b") == jpeg
    assert await stores.code_images.get_code_image("wx1", "old") == jpeg  # replaced
    await stores.code_images.put_code_images([])
    # Kept until the end given: the sweep at that time takes all three.
    assert await stores.code_images.delete_code_images_until(until) == 3


async def test_code_images_past_their_time_are_swept_unless_kept_longer(
    stores: SqlStores,
) -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    image = CodeImage("image/png", b"\x89PNG\r\n\x1a\n")
    for scene in ("old", "kept", "young"):
        await stores.code_images.put_code_image("wx1", scene, image, now + timedelta(minutes=1))
    assert await stores.code_images.keep_code_image("wx1", "kept", now + timedelta(days=1))
    assert not await stores.code_images.keep_code_image("wx1", "missing", now + timedelta(days=1))
    await stores.code_images.put_code_image("wx1", "young", image, now + timedelta(hours=1))

    assert await stores.code_images.delete_code_images_until(now + timedelta(minutes=2)) == 1
    assert await stores.code_images.get_code_image("wx1", "old") is None
    assert await stores.code_images.get_code_image("wx1", "kept") == image
    assert await stores.code_images.get_code_image("wx1", "young") == image
    assert await stores.code_images.delete_code_images_until(now + timedelta(minutes=2)) == 0


async def test_many_images_are_kept_longer_in_one_call(stores: SqlStores) -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    image = CodeImage("image/png", b"\x89PNG\r\n\x1a\n")
    for app_id, scene in (("wx1", "a"), ("wx1", "b"), ("wx2", "a"), ("wx1", "c")):
        await stores.code_images.put_code_image(app_id, scene, image, now + timedelta(minutes=1))
    later = now + timedelta(days=1)
    await stores.code_images.keep_code_images(
        [("wx1", "a", later), ("wx2", "a", later), ("wx1", "missing", later)]
    )
    await stores.code_images.keep_code_images([])

    assert await stores.code_images.delete_code_images_until(now + timedelta(minutes=2)) == 2
    assert await stores.code_images.get_code_image("wx1", "a") == image
    assert await stores.code_images.get_code_image("wx2", "a") == image
    assert await stores.code_images.get_code_image("wx1", "b") is None
    assert await stores.code_images.get_code_image("wx1", "c") is None
    assert await stores.code_images.delete_code_images_until(later) == 2
