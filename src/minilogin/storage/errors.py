"""The stores' failures that mean "a store is unreachable or too busy right now".

None of them is the client's doing, and none leaves anything half-written (a transaction that
fails is rolled back; an ephemeral operation is one atomic command), so ``web/errors.py``
answers them 503 with ``Retry-After`` rather than as a crash. Under overload these are what a
request meets first: no pooled Redis or database connection free within the pool's timeout.
"""

from __future__ import annotations

import asyncpg.exceptions
import redis.exceptions
import sqlalchemy.exc

UNAVAILABLE: tuple[type[Exception], ...] = (
    # Redis unreachable, or no pooled connection free in time.
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    # No pooled database connection free in time.
    sqlalchemy.exc.TimeoutError,
    # The database unreachable, or SQLite's lock still held after its busy timeout.
    sqlalchemy.exc.OperationalError,
    # The driver's connection broke, or SQLAlchemy found it gone.
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    # Opening a connection: refused, reset, timed out, the host unknown. asyncpg raises these
    # as they are, outside SQLAlchemy's wrapping.
    OSError,
    # PostgreSQL starting up or shutting down (57P03), out of connection slots (53300), or a
    # connection lost (class 08), when asyncpg's own error escapes the wrapping.
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.PostgresConnectionError,
)


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means "a store is unreachable or too busy". SQLAlchemy raises a bare
    ``DBAPIError`` for a connection the server closed mid-statement (PostgreSQL stopping):
    it says so with ``connection_invalidated``. For a connection refused while PostgreSQL
    shuts down (57P03) it raises a bare ``DBAPIError`` too, saying nothing: only the driver's
    error it was raised from tells, so the causes are looked at as well."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, UNAVAILABLE):
            return True
        if isinstance(cause, sqlalchemy.exc.DBAPIError) and cause.connection_invalidated:
            return True
        cause = cause.__cause__
    return False
