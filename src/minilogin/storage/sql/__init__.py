"""The durable store on SQL databases: SQLite (the default) and PostgreSQL.

``SqlStores`` holds one store per aggregate, ``upgrade`` brings a database's schema to the
latest migration.
"""

from minilogin.storage.sql.engine import make_engine
from minilogin.storage.sql.migrate import upgrade, upgrade_async
from minilogin.storage.sql.store import SqlStore
from minilogin.storage.sql.stores import SqlStores

__all__ = ["SqlStore", "SqlStores", "make_engine", "upgrade", "upgrade_async"]
