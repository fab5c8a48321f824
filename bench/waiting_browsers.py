"""Waiting browsers: confirm → browser latency with 1,000 and 10,000 browsers waiting at once.

For each size N, one ``minilogin dev`` process on PostgreSQL and Redis (servers this script
starts, as the tests do; the WeChat sandbox in the same process; ``--sqlite`` runs it on the
embedded defaults, a SQLite file and the in-process ephemeral store, instead) holds N browsers
waiting on N scanned QR logins, by server-sent events, by long poll
(``?wait=25&last=scanned``) and, as the baseline, by polling ``GET …/api/qrcodes/{id}`` every
800 ms. While all N wait, a phone confirms ``--confirms`` of them, chosen at random, at a
fixed ``--rate`` (open loop). A login's latency runs from just before its confirm is sent to
the moment its browser has parsed the new status (one monotonic clock, this process).

The memory a waiting browser costs is the server's resident memory with the N browsers
connected and waiting, minus the same with the N logins made but nobody waiting, over N. Only
the first mode's figure (SSE) is clean: later modes reuse memory the earlier ones freed, which
CPython keeps rather than returning it to the system.

The browsers are hand-written HTTP/1.1 connections (``_drive.RawHTTP``) so that ten thousand
of them weigh little on the machine the server shares. The code pool is filled before the
first measurement (N codes from the sandbox, about 30 ms of CPU each) and sized so that no
code is made while measuring.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx
from _drive import (
    Login,
    Phone,
    RawHTTP,
    create,
    exchange,
    fill_pool,
    raise_open_files_limit,
    read_scene,
    rss_kib,
)
from common import CpuMeter, CpuUse, Server, Summary, machine, minilogin_dev, parser, run, table
from tests.support.postgres_server import postgres_server
from tests.support.redis_server import redis_server

LONG_POLL_WAIT = 25
POLL_INTERVAL = 0.8
#: How many logins are prepared, or connections opened, at once.
CONCURRENCY = 32
#: The 800 ms pollers of the baseline are at most this many: 10,000 of them would ask for
#: 12,500 answers a second, several times what one instance gives (see BENCHMARKS.md).
POLLERS = 2000
#: Quarantine of a scene after its login ends, for the benchmark only: the modes reuse codes.
QUARANTINE = 1
QUICK = {"sizes": "20", "confirms": 6, "rate": 50.0}

Ready = Callable[[], None]
Wait = Callable[[RawHTTP, str, Login, Ready, random.Random], Awaitable[dict[str, object]]]


async def wait_sse(
    conn: RawHTTP, issuer_path: str, login: Login, ready: Ready, rng: random.Random
) -> dict[str, object]:
    conn.send(f"{issuer_path}/api/qrcodes/{login.id}/events", login.auth)
    async for event, data in conn.events():
        if event != "status":
            continue
        body = json.loads(data)
        if body["status"] == "scanned":
            ready()  # the server sends this only once it has subscribed
            continue
        login.known = time.perf_counter()
        return dict(body)
    raise RuntimeError(f"{login.id}: the stream ended")


async def wait_long_poll(
    conn: RawHTTP, issuer_path: str, login: Login, ready: Ready, rng: random.Random
) -> dict[str, object]:
    announced = False
    while True:
        conn.send(
            f"{issuer_path}/api/qrcodes/{login.id}?wait={LONG_POLL_WAIT}&last=scanned", login.auth
        )
        await conn.writer.drain()
        if not announced:
            announced = True
            ready()
        status, body = await conn.json()
        if status != 200:
            raise RuntimeError(f"{login.id}: long poll answered {status} {body}")
        if body["status"] != "scanned":
            login.known = time.perf_counter()
            return body


async def poll_every_800_ms(
    conn: RawHTTP, issuer_path: str, login: Login, ready: Ready, rng: random.Random
) -> dict[str, object]:
    ready()
    # A random phase, as real users' pages are; a fixed rate, as a timer-driven SDK polls.
    await asyncio.sleep(rng.uniform(0, POLL_INTERVAL))
    next_poll = time.perf_counter()
    while True:
        conn.send(f"{issuer_path}/api/qrcodes/{login.id}", login.auth)
        status, body = await conn.json()
        if status != 200:
            raise RuntimeError(f"{login.id}: poll answered {status} {body}")
        if body["status"] != "scanned":
            login.known = time.perf_counter()
            return body
        next_poll += POLL_INTERVAL
        await asyncio.sleep(max(0.0, next_poll - time.perf_counter()))


@dataclass(frozen=True, slots=True)
class Mode:
    key: str
    label: str
    wait: Wait


MODES = (
    Mode("sse", "SSE", wait_sse),
    Mode("longpoll", "long poll", wait_long_poll),
    Mode("poll800", "poll every 800 ms", poll_every_800_ms),
)


@dataclass(frozen=True, slots=True)
class Result:
    latencies_ms: list[float]
    missed: int
    memory_per_browser_kib: float
    cpu: CpuUse
    refused: list[str]  # why the server refused confirms, if it did


def client(connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=connections, keepalive_expiry=2.0), timeout=120
    )


async def prepare(server: Server, count: int) -> list[Login]:
    """``count`` QR logins, created and scanned, ready for their browsers to wait on."""
    logins: list[Login] = []
    async with client(CONCURRENCY) as http:
        phone = Phone(http, server.public)
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(n: int) -> None:
            async with gate:
                login = await create(http, server.issuer())
                await read_scene(http, server.public, login)
                await phone.scan(server.public, login, f"waiting-{n % 500}")
                logins.append(login)

        await asyncio.gather(*(one(n) for n in range(count)))
    return logins


async def measure(
    server: Server, mode: Mode, size: int, confirms: int, rate: float, rng: random.Random
) -> Result:
    logins = await prepare(server, size)
    issuer_path = "/pools/demo"
    memory_before = rss_kib(server.pid)
    waiting = 0
    everyone = asyncio.Event()

    def ready() -> None:
        nonlocal waiting
        waiting += 1
        if waiting == size:
            everyone.set()

    connections: list[RawHTTP] = []
    answers: dict[str, asyncio.Task[dict[str, object]]] = {}
    gate = asyncio.Semaphore(CONCURRENCY)

    async def connect(login: Login) -> None:
        async with gate:
            conn = await RawHTTP.open(server.public)
        connections.append(conn)
        answers[login.id] = asyncio.create_task(mode.wait(conn, issuer_path, login, ready, rng))

    try:
        await asyncio.gather(*(connect(login) for login in logins))
        async with asyncio.timeout(120 + size / 50):
            await everyone.wait()
        await asyncio.sleep(1.0)  # let the server finish what the last connections started
        memory_per_browser = (rss_kib(server.pid) - memory_before) / size

        chosen = rng.sample(logins, min(confirms, size))
        async with client(32) as http:
            phone = Phone(http, server.public)
            meter = CpuMeter(server.pid)
            start = time.perf_counter()
            confirms = []
            for i, login in enumerate(chosen):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                confirms.append(asyncio.create_task(phone.confirm(server.public, login)))
            # A confirm the server refused is a login no browser will see: counted as missed.
            refused = [
                str(error)[:120]
                for error in await asyncio.gather(*confirms, return_exceptions=True)
                if error is not None
            ]
            done, _ = await asyncio.wait(
                [answers[login.id] for login in chosen], timeout=2 * LONG_POLL_WAIT
            )
            cpu = meter.stop()
            latencies = [
                (login.known - login.confirm_sent) * 1000
                for login in chosen
                if answers[login.id] in done
            ]
            # Consumed and cancelled logins give their codes back for the next mode. A code
            # that outlived its 60 s keeps its scene until the lease runs out (the pool has
            # room for that).
            for login in chosen:
                if answers[login.id] in done:
                    code = str(answers[login.id].result()["code"])
                    with contextlib.suppress(RuntimeError):
                        await exchange(http, server.issuer(), login, code)
            confirmed = {login.id for login in chosen}
            await cancel_all(http, server, [lg for lg in logins if lg.id not in confirmed])
    finally:
        for task in answers.values():
            task.cancel()
        await asyncio.gather(*answers.values(), return_exceptions=True)
        for conn in connections:
            conn.close()
    return Result(latencies, len(chosen) - len(latencies), memory_per_browser, cpu, refused)


async def cancel_all(http: httpx.AsyncClient, server: Server, logins: list[Login]) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def cancel(login: Login) -> None:
        async with gate:
            response = await http.delete(
                f"{server.issuer()}/api/qrcodes/{login.id}", headers=login.auth
            )
            if response.status_code != 204:
                raise RuntimeError(f"cancel {login.id}: {response.status_code} {response.text}")

    await asyncio.gather(*(cancel(login) for login in logins))


async def warm_pool(server: Server, codes: int) -> float:
    async with client(4) as http:
        return await fill_pool(http, [server.issuer()], server.public, codes)


@contextmanager
def stores(embedded: bool) -> Iterator[dict[str, str]]:
    """The settings of the durable and ephemeral stores: PostgreSQL and Redis started here,
    or the embedded defaults."""
    if embedded:
        yield {}
        return
    with postgres_server() as postgres, redis_server() as redis:
        postgres.psql('CREATE DATABASE "minilogin"')
        yield {
            "MINILOGIN_DATABASE_URL": postgres.url("minilogin"),
            "MINILOGIN_REDIS_URL": redis.url(),
        }


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--sizes", default="1000,10000", help="browsers waiting at once, per run")
    p.add_argument("--confirms", type=int, default=300, help="logins confirmed per mode")
    p.add_argument("--rate", type=float, default=20.0, help="confirms a second (open loop)")
    p.add_argument(
        "--sqlite",
        action="store_true",
        help="a SQLite file and the in-process ephemeral store instead of PostgreSQL and Redis",
    )
    args = p.parse_args()
    if args.quick:
        p.set_defaults(**QUICK)
        args = p.parse_args()
    args.sizes = [int(size) for size in args.sizes.split(",")]
    return args


def _ms(value: float) -> str:
    return f"{value:.1f}"


async def benchmark(args: argparse.Namespace) -> None:
    largest = max(args.sizes)
    limit = raise_open_files_limit(2 * largest + 1000)
    store = (
        "SQLite file, in-process ephemeral store"
        if args.sqlite
        else "PostgreSQL and Redis started by this script"
    )
    print(f"waiting_browsers: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}")
    print(f"server:   python -m minilogin dev ({store}, WeChat sandbox), one")
    print("          process; this client runs beside it on the same cores")
    print(
        f"settings: sizes {args.sizes}, {args.confirms} confirms per mode at {args.rate:g}/s "
        f"(open loop); open-files limit {limit}"
    )
    if args.quick:
        print(
            "QUICK RUN: a tiny configuration to show the benchmark works; figures are meaningless"
        )
    print(flush=True)
    rng = random.Random()
    for size in args.sizes:
        pool = size + len(MODES) * args.confirms + 50
        env = {
            "MINILOGIN_QR_EXPIRES_IN": "600",
            "MINILOGIN_CODE_POOL_MIN_SIZE": str(pool),
            "MINILOGIN_CODE_POOL_MAX_SIZE": str(pool),
            "MINILOGIN_CODE_POOL_QUARANTINE": str(QUARANTINE),
            "MINILOGIN_CODE_POOL_BUDGET_PER_MINUTE": "5000",
        }
        with ExitStack() as stack:
            env |= stack.enter_context(stores(args.sqlite))
            server = stack.enter_context(minilogin_dev(**env))
            warmed = await warm_pool(server, pool)
            print(f"{size} browsers: code pool of {pool} filled in {warmed:.0f} s", flush=True)
            results: dict[str, Result] = {}
            for mode in MODES:
                browsers = min(size, POLLERS) if mode.key == "poll800" else size
                results[mode.key] = await measure(
                    server, mode, browsers, args.confirms, args.rate, rng
                )
                # The quarantine of the codes just given back, before the next mode leases.
                await asyncio.sleep(QUARANTINE + 1.5)
        report(size, results)


def report(size: int, results: dict[str, Result]) -> None:
    baseline = Summary.of(results["poll800"].latencies_ms)
    rows = []
    for mode in MODES:
        result = results[mode.key]
        figures = Summary.of(result.latencies_ms)
        rows.append(
            [
                mode.label,
                str(figures.n),
                str(result.missed),
                _ms(figures.p50),
                _ms(figures.p90),
                _ms(figures.p99),
                _ms(figures.max),
                f"{baseline.p99 / figures.p99:.0f}×" if figures.p99 else "-",
                f"{result.memory_per_browser_kib:.1f}",
                result.cpu.share(result.cpu.server),
                result.cpu.share(result.cpu.client),
                result.cpu.share(result.cpu.others),
            ]
        )
    if size > POLLERS:
        print(f"(the 800 ms pollers were {POLLERS}, not {size}: see POLLERS in the script)")
    headers = [
        f"{size} waiting",
        "n",
        "missed",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "p99 vs poll",
        "KiB/browser",
        "server CPU",
        "client CPU",
        "others CPU",
    ]
    print(table(headers, rows))
    for mode in MODES:
        for reason in sorted(set(results[mode.key].refused))[:3]:
            print(f"  {mode.label}: a confirm failed: {reason}")
    for mode in MODES[:2]:
        p99 = Summary.of(results[mode.key].latencies_ms).p99
        verdict = "met" if p99 <= 50 else f"MISSED by {p99 - 50:.1f} ms"
        print(f"  target p99 ≤ 50 ms ({mode.label}): {_ms(p99)} ms → {verdict}")
    print(flush=True)


def main() -> None:
    run(benchmark(arguments()))


if __name__ == "__main__":
    main()
