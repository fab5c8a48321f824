"""Store round trips of a login: the Redis commands and PostgreSQL transactions one makes.

``minilogin dev`` on PostgreSQL and Redis (the servers the test suite starts), the WeChat
sandbox in a process of its own. A few people log in once each first (their first login
creates and links their accounts), then ``--logins`` complete logins of those returning people
run one after another: create, the code's scene, scan, a long poll that sees the confirm,
confirm, token. Printed: Redis's own count of the commands it ran (``INFO commandstats``) and
PostgreSQL's of the transactions the database committed or rolled back (``pg_stat_database``),
each divided by the logins. Counts, not times: they do not depend on the machine's load. The
pool's filler, remaking the codes the logins use, is counted with them.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter

import httpx
import redis
from _drive import Phone, SharedStores, complete_login, fill_pool, pool_settings, shared_stores
from common import machine, minilogin_dev_and_sandbox, parse, parser, run, table

QUICK = {"logins": 5, "people": 2}
DATABASE = "round_trips"  # as in TRANSACTIONS
#: PostgreSQL 15 publishes an idle backend's counts within 10 s (PGSTAT_IDLE_INTERVAL):
#: waited before each reading.
STATS_DELAY = 11.0
TRANSACTIONS = (
    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'round_trips'"
)


def redis_commands(url: str) -> Counter[str]:
    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return Counter(
        {name.removeprefix("cmdstat_"): int(row["calls"]) for name, row in stats.items()}
    )


async def transactions(stores: SharedStores) -> int:
    await asyncio.sleep(STATS_DELAY)
    return int(stores.postgres.psql(TRANSACTIONS).strip())


async def measure(args: argparse.Namespace, stores: SharedStores) -> None:
    env = {**stores.env(DATABASE), **pool_settings(args.logins + args.people)}
    with minilogin_dev_and_sandbox(**env) as (server, wechat):
        async with httpx.AsyncClient(timeout=60) as http:
            await fill_pool(http, [server.issuer()], wechat.public, args.logins + args.people)
            phone = Phone(http, wechat.public)
            for person in range(args.people):
                await complete_login(http, phone, f"person-{person}", server)
            url = stores.redis.url()
            commands, committed = redis_commands(url), await transactions(stores)
            for n in range(args.logins):
                await complete_login(http, phone, f"person-{n % args.people}", server)
            counted = redis_commands(url) - commands
            committed = await transactions(stores) - committed
    rows = [["PostgreSQL transactions", f"{committed / args.logins:.2f}"]]
    rows.append(["Redis commands", f"{counted.total() / args.logins:.2f}"])
    rows += [[f"  {name}", f"{calls / args.logins:.2f}"] for name, calls in counted.most_common()]
    print(f"\n{args.logins} logins of {args.people} returning people, one at a time")
    print(table(["store round trips", "a login"], rows))


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--logins", type=int, default=100, help="logins counted")
    p.add_argument("--people", type=int, default=4, help="returning people, logged in first")
    return parse(p, QUICK)


def main() -> None:
    args = arguments()
    print(f"login_round_trips: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}")
    with shared_stores() as stores:
        run(measure(args, stores))


if __name__ == "__main__":
    main()
