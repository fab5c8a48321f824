"""The durable stores on SQL databases, one per aggregate, all on one database."""

from __future__ import annotations

from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql.admins import SqlAdminStore
from minilogin.storage.sql.applications import SqlApplicationStore
from minilogin.storage.sql.audit import SqlAuditStore
from minilogin.storage.sql.code_images import SqlCodeImageStore
from minilogin.storage.sql.common import Database
from minilogin.storage.sql.identity_sources import SqlIdentitySourceStore
from minilogin.storage.sql.pools import SqlPoolStore
from minilogin.storage.sql.refresh_tokens import SqlRefreshTokenStore
from minilogin.storage.sql.signing_keys import SqlSigningKeyStore
from minilogin.storage.sql.users import SqlUserStore


class SqlStores:
    """Each aggregate's store on ``db``; ``close`` closes the database they share."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.pools = SqlPoolStore(db)
        self.applications = SqlApplicationStore(db)
        self.identity_sources = SqlIdentitySourceStore(db)
        self.users = SqlUserStore(db)
        self.refresh_tokens = SqlRefreshTokenStore(db)
        self.signing_keys = SqlSigningKeyStore(db)
        self.code_images = SqlCodeImageStore(db)
        self.audit_events = SqlAuditStore(db)
        self.admins = SqlAdminStore(db)

    @classmethod
    async def open(cls, database_url: str, box: SecretBox) -> SqlStores:
        """Connect once, so that a wrong URL or credentials fail at start-up."""
        return cls(await Database.open(database_url, box))

    async def close(self) -> None:
        await self._db.close()
