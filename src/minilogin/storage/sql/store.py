"""``DurableStore`` on SQL, for the callers that still take every aggregate at once: one
object that is each aggregate's store (``stores.py``) on one database."""

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


class SqlStore(
    SqlPoolStore,
    SqlApplicationStore,
    SqlIdentitySourceStore,
    SqlUserStore,
    SqlRefreshTokenStore,
    SqlSigningKeyStore,
    SqlCodeImageStore,
    SqlAuditStore,
    SqlAdminStore,
):
    """``DurableStore`` on a SQL database."""

    @classmethod
    async def open(cls, database_url: str, box: SecretBox) -> SqlStore:
        """Connect once, so that a wrong URL or credentials fail at start-up."""
        return cls(await Database.open(database_url, box))

    async def close(self) -> None:
        await self._db.close()
