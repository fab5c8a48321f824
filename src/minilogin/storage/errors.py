"""The stores' failures that mean "a store is unreachable or too busy right now".

None of them is the client's doing, and none leaves anything half-written (a transaction that
fails is rolled back; an ephemeral operation is one atomic command), so ``web/errors.py``
answers them 503 with ``Retry-After`` rather than as a crash. Under overload these are what a
request meets first: no pooled Redis or database connection free within the pool's timeout.
"""

from __future__ import annotations

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
)
