"""Redis replies: minilogin's CPU a Redis command, replies parsed by hiredis or by redis-py.

minilogin's Redis ephemeral store (``storage/ephemeral/redis.py``) in this process, against a
``redis-server`` started for the run, doing what a login does most: ``set`` a QR login's
record (about 600 characters of JSON), ``get`` it, and ``incr`` a rate-limit counter,
``--rounds`` times one after another. This process's CPU per command (``time.process_time``:
the server's side of the conversation; Redis's own CPU is its process's) with the parser
redis-py picks when hiredis is installed (``hiredis``, a dependency since issue 17), beside
the same run with redis-py's own Python parser (the baseline: what runs without hiredis).
"""

from __future__ import annotations

import argparse
import time

from _drive import redis_server
from common import machine, parse, parser, run, say_if_quick, table
from redis._parsers import _AsyncHiredisParser, _AsyncRESP2Parser

from minilogin.storage.ephemeral.redis import RedisStore

QUICK = {"rounds": 200}
RECORD = '{"id":"' + "x" * 32 + '","status":"pending","details":"' + "y" * 520 + '"}'


async def cpu_a_command(url: str, parser_class: type, rounds: int) -> float:
    """Microseconds of this process's CPU a command, with replies parsed by
    ``parser_class``."""
    store = RedisStore(url, prefix=f"bench-{parser_class.__name__}:")
    # Before the first connection is made, so that every connection parses with it.
    store._redis.connection_pool.connection_kwargs["parser_class"] = parser_class
    try:
        for n in range(50):  # connections opened, scripts loaded: not the steady cost
            await store.set(f"warm{n}", RECORD, 60)
            await store.get(f"warm{n}")
            await store.incr("warm", 60)
        started = time.process_time()
        for n in range(rounds):
            await store.set(f"login{n}", RECORD, 60)
            await store.get(f"login{n}")
            await store.incr(f"limit{n % 10}", 60)
        return (time.process_time() - started) * 1e6 / (3 * rounds)
    finally:
        await store.close()


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--rounds", type=int, default=20000, help="set + get + incr rounds per parser")
    return parse(p, QUICK)


async def benchmark(args: argparse.Namespace) -> None:
    print(f"redis_replies: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}")
    print(f"settings: {args.rounds} rounds of set + get + incr per parser, one at a time")
    say_if_quick(args)
    print(flush=True)
    with redis_server() as redis:
        kinds = [("hiredis", _AsyncHiredisParser), ("redis-py (baseline)", _AsyncRESP2Parser)]
        figures = {
            label: await cpu_a_command(redis.url(), kind, args.rounds) for label, kind in kinds
        }
    baseline = figures["redis-py (baseline)"]
    rows = [[label, f"{us:.1f}", f"{us / baseline:.2f}×"] for label, us in figures.items()]
    print(table(["replies parsed by", "µs CPU a command", "vs baseline"], rows))


def main() -> None:
    run(benchmark(arguments()))


if __name__ == "__main__":
    main()
