"""The code pool's images on SQL: ``CodeImageStore`` of ``minilogin.ports``.

Every code made, lent and retired passes here, so the statements are Core, built once
(``common.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Insert, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from minilogin.core.entities import CodeImage
from minilogin.storage.sql.common import Database, table, utc
from minilogin.storage.sql.models import CodeImageRow

_images = table(CodeImageRow)
# Named apart from the columns: an UPDATE's own values take the columns' names.
_THIS = (_images.c.app_id == bindparam("app"), _images.c.scene == bindparam("code"))

_GET = select(_images.c.content_type, _images.c.image).where(*_THIS)


def _upsert(statement: postgresql.Insert | sqlite.Insert) -> Insert:
    """The image replaces the one stored for its scene, if any, in one statement."""
    return statement.on_conflict_do_update(
        index_elements=[_images.c.app_id, _images.c.scene],
        set_={name: statement.excluded[name] for name in ("content_type", "image", "kept_until")},
    )


# Both backends have INSERT … ON CONFLICT, each dialect its own construct.
_PUT = {
    "postgresql": _upsert(postgresql.insert(_images)),
    "sqlite": _upsert(sqlite.insert(_images)),
}
_KEEP_MANY = update(_images).where(*_THIS).values(kept_until=bindparam("until"))
_KEEP = _KEEP_MANY.returning(_images.c.scene)
_DELETE_SCENES = delete(_images).where(
    _images.c.app_id == bindparam("app"),
    _images.c.scene.in_(bindparam("codes", expanding=True)),
)
#: Scenes a DELETE names at most: the code pool's filler deletes the images of all the logins
#: that ended since its last deletion at once, and SQLite before 3.32 binds at most 999
#: parameters a statement.
DELETE_CHUNK = 500
_DELETE_UNTIL = (
    delete(_images).where(_images.c.kept_until <= bindparam("now")).returning(_images.c.scene)
)


class SqlCodeImageStore:
    """``CodeImageStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._put = _PUT[db.engine.dialect.name]

    async def put_code_image(
        self, app_id: str, scene: str, image: CodeImage, kept_until: datetime
    ) -> None:
        await self.put_code_images([(app_id, scene, image, kept_until)])

    async def put_code_images(self, images: Sequence[tuple[str, str, CodeImage, datetime]]) -> None:
        if not images:
            return
        rows = [
            {
                "app_id": app_id,
                "scene": scene,
                "content_type": image.content_type,
                "image": image.data,
                "kept_until": utc(kept_until),
            }
            for app_id, scene, image, kept_until in images
        ]
        statement = self._put

        def put(connection: Connection) -> None:
            # One upsert run for every row (the driver's executemany), in one transaction.
            connection.execute(statement, rows)

        await self._db.write(put)

    async def get_code_image(self, app_id: str, scene: str) -> CodeImage | None:
        def get(connection: Connection) -> CodeImage | None:
            row = connection.execute(_GET, {"app": app_id, "code": scene}).first()
            return None if row is None else CodeImage(row.content_type, row.image)

        return await self._db.lookup(get)

    async def keep_code_image(self, app_id: str, scene: str, kept_until: datetime) -> bool:
        values = {"app": app_id, "code": scene, "until": utc(kept_until)}

        def keep(connection: Connection) -> bool:
            return connection.execute(_KEEP, values).first() is not None

        return await self._db.write(keep)

    async def keep_code_images(self, kept: Sequence[tuple[str, str, datetime]]) -> None:
        if not kept:
            return
        values = [
            {"app": app_id, "code": scene, "until": utc(until)} for app_id, scene, until in kept
        ]

        def keep_them(connection: Connection) -> None:
            # One UPDATE run for every row (the driver's executemany), in one transaction.
            connection.execute(_KEEP_MANY, values)

        await self._db.write(keep_them)

    async def delete_code_images(self, app_id: str, scenes: Sequence[str]) -> None:
        """The images of ``scenes``, gone, in one transaction however many they are."""
        if not scenes:
            return
        chunks = [
            {"app": app_id, "codes": list(scenes[start : start + DELETE_CHUNK])}
            for start in range(0, len(scenes), DELETE_CHUNK)
        ]

        def delete_them(connection: Connection) -> None:
            for values in chunks:
                connection.execute(_DELETE_SCENES, values)

        await self._db.write(delete_them)

    async def delete_code_images_until(self, now: datetime) -> int:
        until = {"now": utc(now)}

        def sweep(connection: Connection) -> int:
            return len(connection.execute(_DELETE_UNTIL, until).all())

        return await self._db.write(sweep)
