"""The durable store on SQL databases: SQLite (the default) and PostgreSQL.

``SqlStore`` is the store, ``upgrade`` brings a database's schema to the latest migration.
"""

from minilogin.storage.sql.migrate import upgrade, upgrade_async
from minilogin.storage.sql.store import SqlStore, make_engine

__all__ = ["SqlStore", "make_engine", "upgrade", "upgrade_async"]
