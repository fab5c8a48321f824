"""SQL hand-over: the CPU of a login's store calls on SQLite, on the loop's thread or handed over.

minilogin's SQL stores (``storage/sql/``) in this process, on a SQLite file migrated for the
run, make the calls of one login and of the code the filler makes for it (``--people`` at once,
each ``--logins`` times): the code's image read (lookup), the returning person's login counted
(one ``UPDATE … RETURNING``), the user read for the token (lookup), a refresh token added, the
login's audit events added, the used code's image deleted, and a new code's image stored (about
30 KB). This process's CPU a login (``time.process_time``: every thread, the database's
included) with the stores as minilogin runs them, lookups and writes on the event loop's own
thread (``storage/sql/threads.py``), their statements straight on the driver once run before
(``storage/sql/direct.py``), beside the same run in two baselines: the engines as the second
pass of issue 17 left them (a ``begin`` listener sending ``BEGIN IMMEDIATE`` as a statement of
its own, every statement through SQLAlchemy's execution), and every transaction handed to one
of the database's threads and back (the first baseline, from before that pass). SQLite's CPU
runs in this process either way; the figure is the SQL path's whole cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from common import (
    load_average,
    machine,
    parse,
    parser,
    round_ratios,
    run,
    say_if_quick,
    table,
)
from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

from minilogin.core.entities import AuditEvent, CodeImage, Pool, RefreshToken, User, WeChatIdentity
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStores, upgrade_async
from minilogin.storage.sql import engine as engines
from minilogin.storage.sql.common import Database, Work
from minilogin.storage.sql.engine import (
    SQLITE_CONNECTIONS,
    SqliteFile,
    for_reads,
    for_writes,
    make_engine,
)
from minilogin.storage.sql.threads import Threads

QUICK = {"logins": 50, "people": 2}
T = TypeVar("T")
APP = "wx-bench"
IMAGE = CodeImage("image/jpeg", os.urandom(30_000))


class HandedOver(Database):
    """The baseline: every transaction handed to the database's threads and back, the
    process's writers taking turns as they do."""

    async def lookup(self, work: Work[T]) -> T:
        return await self.read(work)

    async def write(self, work: Work[T]) -> T:
        threads, turn = self._threads, self._write_turn
        assert threads is not None, "a SQLite file"
        assert turn is not None
        async with turn:
            return await threads.write(work)


class SecondPass(Database):
    """The second pass's engines: lookups and writes on the loop's thread as now, on engines
    with SQLAlchemy's ``begin`` listener (``engine._sqlite_begin``, which sends ``BEGIN
    IMMEDIATE`` through SQLAlchemy's execution and makes it dispatch every event), each
    statement run by SQLAlchemy."""

    def __init__(self, engine: AsyncEngine, box: SecretBox) -> None:
        super().__init__(engine, box)
        assert self._threads is not None, "a SQLite file"
        self._threads.close()
        self._threads = Threads(
            _with_begin_listener(engine, SQLITE_CONNECTIONS),
            SQLITE_CONNECTIONS,
            here=_with_begin_listener(engine, 1, wait=False),
        )


def _with_begin_listener(engine: AsyncEngine, connections: int, wait: bool = True) -> SqliteFile:
    sync = create_engine(
        engine.url.set(drivername="sqlite"),
        pool_size=2 * connections,
        max_overflow=0,
        connect_args={"check_same_thread": False, **({} if wait else {"timeout": 0})},
    )
    engines._set_up_sqlite(sync, foreign_keys=True)
    if not wait:
        event.listen(sync, "connect", engines._no_checkpoints)
    return SqliteFile(for_reads(sync), for_writes(sync))


async def one_login(stores: SqlStores, pool: Pool, person: int, n: int) -> None:
    until = datetime.now(UTC) + timedelta(hours=1)
    scene = f"p{person}-{n}"
    assert await stores.code_images.get_code_image(APP, scene) is not None
    user = await stores.users.record_login_by_identity(
        pool.id, APP, f"openid-{person}", datetime.now(UTC), {}
    )
    assert user is not None
    assert await stores.users.get_user(pool.id, user.id) is not None
    await stores.refresh_tokens.add_refresh_token(
        RefreshToken(
            pool_id=pool.id,
            client_id="bench-client",
            user_id=user.id,
            family_id=f"family-{person}-{n}",
            token_hash=os.urandom(16).hex(),
            scope="openid",
            auth_time=int(time.time()),
            expires_at=until,
            created_at=datetime.now(UTC),
        )
    )
    await stores.audit_events.add_audit_events(
        [AuditEvent(pool.id, "login.confirmed", subject=user.id, created_at=datetime.now(UTC))]
    )
    await stores.code_images.delete_code_images(APP, [scene])
    # The filler's code for the next login.
    await stores.code_images.put_code_image(APP, f"p{person}-{n + 1}", IMAGE, until)


async def cpu_a_login(database: type[Database], args: argparse.Namespace) -> float:
    """Milliseconds of this process's CPU a login, the stores on ``database``."""
    with tempfile.TemporaryDirectory(prefix="minilogin-bench-sql-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'minilogin.db'}"
        await upgrade_async(url)
        engine = make_engine(url)
        async with engine.connect():  # as Database.open does
            pass
        stores = SqlStores(database(engine, SecretBox("bench")))
        try:
            pool = await stores.pools.create_pool(Pool(slug="bench", name="Bench"))
            for person in range(args.people):
                await stores.users.create_user(
                    User(pool_id=pool.id),
                    WeChatIdentity(
                        pool_id=pool.id, user_id="", app_id=APP, openid=f"openid-{person}"
                    ),
                )
                await stores.code_images.put_code_image(
                    APP, f"p{person}-0", IMAGE, datetime.now(UTC) + timedelta(hours=1)
                )

            async def logs_in(who: int, first: int, count: int) -> None:
                for n in range(first, first + count):
                    await one_login(stores, pool, who, n)

            warm = 20  # connections opened, statements compiled: not the steady cost
            await asyncio.gather(*(logs_in(who, 0, warm) for who in range(args.people)))
            started = time.process_time()
            await asyncio.gather(*(logs_in(who, warm, args.logins) for who in range(args.people)))
            spent = time.process_time() - started
        finally:
            await stores.close()
    return float(spent * 1e3 / (args.logins * args.people))


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--logins", type=int, default=500, help="logins per person and round")
    p.add_argument("--people", type=int, default=4, help="people logging in at once")
    p.add_argument("--rounds", type=int, default=3, help="rounds, each measuring both ways")
    return parse(p, QUICK)


async def benchmark(args: argparse.Namespace) -> None:
    print(f"sql_handover: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}; load average {load_average()}")
    print(
        f"settings: {args.people} people at once, {args.logins} logins each a round, "
        f"{args.rounds} rounds, each way in each"
    )
    say_if_quick(args)
    print(flush=True)
    kinds: list[tuple[str, type[Database]]] = [
        ("minilogin: loop's thread, direct", Database),
        ("second pass: loop's thread", SecondPass),
        ("handed to the threads (baseline)", HandedOver),
    ]
    figures: dict[str, list[float]] = {label: [] for label, _ in kinds}
    for _ in range(args.rounds):
        for label, kind in kinds:
            figures[label].append(await cpu_a_login(kind, args))
    baselines = [figures["handed to the threads (baseline)"], figures[kinds[1][0]]]

    rows = [
        [
            label,
            *(f"{ms:.3f}" for ms in values),
            *(round_ratios(values, baseline) for baseline in baselines),
        ]
        for label, values in figures.items()
    ]
    rounds = [f"round {n + 1} ms" for n in range(args.rounds)]
    print("CPU a login's store calls (this process, every thread)")
    print(table(["stores", *rounds, "vs baseline, each round", "vs second pass"], rows))
    print(f"load average {load_average()} at the end")


def main() -> None:
    run(benchmark(arguments()))


if __name__ == "__main__":
    main()
