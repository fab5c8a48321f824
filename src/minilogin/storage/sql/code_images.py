"""The code pool's images on SQL: ``CodeImageStore`` of ``minilogin.ports``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update

from minilogin.core.entities import CodeImage
from minilogin.storage.sql.common import Database, utc
from minilogin.storage.sql.models import CodeImageRow


class SqlCodeImageStore:
    """``CodeImageStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def put_code_image(
        self, app_id: str, scene: str, image: CodeImage, kept_until: datetime
    ) -> None:
        async with self._db.transaction() as session:
            # Delete and insert in one transaction: an upsert every backend understands.
            await session.execute(
                delete(CodeImageRow).where(
                    CodeImageRow.app_id == app_id, CodeImageRow.scene == scene
                )
            )
            session.add(
                CodeImageRow(
                    app_id=app_id,
                    scene=scene,
                    content_type=image.content_type,
                    image=image.data,
                    kept_until=utc(kept_until),
                )
            )

    async def get_code_image(self, app_id: str, scene: str) -> CodeImage | None:
        async with self._db.reads() as session:
            row = await session.get(CodeImageRow, (app_id, scene))
        return None if row is None else CodeImage(row.content_type, row.image)

    async def keep_code_image(self, app_id: str, scene: str, kept_until: datetime) -> bool:
        async with self._db.transaction() as session:
            kept = await session.scalar(
                update(CodeImageRow)
                .where(CodeImageRow.app_id == app_id, CodeImageRow.scene == scene)
                .values(kept_until=utc(kept_until))
                .returning(CodeImageRow.scene)
            )
        return kept is not None

    async def delete_code_images(self, app_id: str, scenes: Sequence[str]) -> None:
        if not scenes:
            return
        async with self._db.transaction() as session:
            await session.execute(
                delete(CodeImageRow).where(
                    CodeImageRow.app_id == app_id, CodeImageRow.scene.in_(list(scenes))
                )
            )

    async def delete_code_images_until(self, now: datetime) -> int:
        async with self._db.transaction() as session:
            gone = await session.scalars(
                delete(CodeImageRow)
                .where(CodeImageRow.kept_until <= utc(now))
                .returning(CodeImageRow.scene)
            )
            return len(gone.all())
