"""Waiting browsers: confirm → browser latency with 1,000 and 10,000 browsers waiting at once.

For each size N, one ``minilogin dev`` process on PostgreSQL and Redis (servers this script
starts, as the tests do; the WeChat sandbox in a process of its own; ``--sqlite`` runs it on the
embedded defaults, a SQLite file and the in-process ephemeral store, instead) holds N browsers
waiting on N QR logins, by server-sent events, by long poll (``?wait=25&last=scanned``, or
``last=pending``) and, as the baseline, by polling ``GET …/api/qrcodes/{id}`` every 800 ms.
A fifth more logins than ``--confirms`` are scanned, the others only created. While all N
wait, a phone confirms ``--confirms`` of the scanned ones, chosen at random, at a fixed
``--rate`` (open loop). A login's latency runs from just before its confirm is sent to
the moment its browser has parsed the new status (one monotonic clock, this process).

Under load a step can fail: a confirm answered 5xx or not in time, a browser whose long poll
is refused, a login that could not be prepared. Each is counted under its reason and the run
goes on: a confirmed login its browser did not see is *missed*, and the percentiles are over
the logins seen. Only the browsers actually waiting are confirmed.

The server's CPU (from ``/proc``) over the confirms is printed as a share of a core and per
confirm, the latter also as a ratio to one request to a FastAPI hello-world (``bench/_hello.py``)
measured first in the same run: with N browsers waiting it includes what their waiting costs
(long polls asked again every 25 s, the 800 ms pollers' requests). Before the confirms, the
server's CPU is also measured for ``--idle`` seconds with the browsers only waiting, beside
the requests they made meanwhile: what a re-poll (or a poll) costs with N waiting, all the
server's background work included, in hello-world requests.

The memory a waiting browser costs is the server's resident memory with the N browsers
connected and waiting, minus the same with the N logins made but nobody waiting, over N. Only
the first mode's figure (SSE) is clean: later modes reuse memory the earlier ones freed, which
CPython keeps rather than returning it to the system.

The browsers are hand-written HTTP/1.1 connections (``_drive.RawHTTP``) so that ten thousand
of them weigh little on the machine the server shares. The code pool is filled before the
first measurement (N codes from the sandbox, about 30 ms of CPU each, at most half of
WeChat's 5,000 a minute: over four minutes for 10,000) and sized so that no code is made
while measuring. A mode prepares its N logins before their browsers connect, and a login
lives at most 600 s, so preparing must take less than that: progress lines (with the time)
say how fast each phase goes and when it should end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial

import httpx
from _drive import (
    FASTEST_FILL,
    HelloWorld,
    Login,
    Phone,
    RawHTTP,
    StepFailed,
    answer,
    create,
    exchange,
    expect,
    fill_pool,
    hello_world_baseline,
    logged_exceptions,
    open_files_limit,
    pool_settings,
    progress,
    raise_open_files_limit,
    read_scene,
    reason,
    rss_kib,
    sandbox_calls,
    shared_stores,
)
from common import (
    CpuMeter,
    CpuUse,
    Server,
    Summary,
    against,
    cpu_seconds,
    load_average,
    machine,
    minilogin_dev,
    minilogin_sandbox,
    parse,
    parser,
    run,
    say_if_quick,
    table,
)

LONG_POLL_WAIT = 25
POLL_INTERVAL = 0.8
#: How many logins are prepared, or connections opened, at once.
CONCURRENCY = 32
#: The 800 ms pollers of the baseline are at most this many: 10,000 of them would ask for
#: 12,500 answers a second, several times what one instance gives (see BENCHMARKS.md).
POLLERS = 2000
#: Quarantine of a scene after its login ends, for the benchmark only: the modes reuse codes.
QUARANTINE = 1
#: A QR login's life, the most the server allows (``MINILOGIN_QR_EXPIRES_IN``): every login of
#: a mode is made before its browser connects, so the first must still live when the confirms
#: end. Preparing N logins must take less than this.
LOGIN_LIFETIME = 600
#: Seconds between progress lines in the long phases.
PROGRESS_EVERY = 30.0
#: Below this share of a core, the server is taken to have finished what the connecting
#: browsers asked of it.
QUIET = 0.5
CODE_API = "wxa/getwxacodeunlimit"
#: Issue 17's goals for confirm → browser p99 with 10,000 waiting, milliseconds.
GOALS_MS = {"sse": 30.0, "longpoll": 50.0}
QUICK = {"sizes": "20", "confirms": 6, "rate": 50.0, "hello": 200, "idle": 1.0}

#: Of a mode's browsers, those whose login is scanned, to be confirmed: ``--confirms`` and
#: this share more, for the ones that fail on the way. The others wait on logins only created.
SCANNED_MARGIN = 0.2

Ready = Callable[[], None]
Wait = Callable[[RawHTTP, str, Login, Ready, random.Random], Awaitable[dict[str, object]]]


def waits_on(login: Login) -> str:
    """The status a browser waits to see change: its login scanned, or only created."""
    return "scanned" if login.session else "pending"


async def wait_sse(
    conn: RawHTTP, issuer_path: str, login: Login, ready: Ready, rng: random.Random
) -> dict[str, object]:
    conn.send(f"{issuer_path}/api/qrcodes/{login.id}/events", login.auth)
    async for event, data in conn.events():
        if event != "status":
            continue
        body = json.loads(data)
        if body["status"] == waits_on(login):
            ready()  # the server sends this only once it has subscribed
            continue
        login.known = time.perf_counter()
        return dict(body)
    raise StepFailed("event stream", "ended")


async def wait_long_poll(
    conn: RawHTTP,
    issuer_path: str,
    login: Login,
    ready: Ready,
    rng: random.Random,
    *,
    together: bool = False,
) -> dict[str, object]:
    announced = False
    # A random phase, as for the pollers: real browsers arrive at different moments, so their
    # long polls end at different moments; browsers all connected within a second would
    # otherwise come back together every 25 s, ten thousand requests in one burst.
    wait = LONG_POLL_WAIT if together else rng.uniform(1, LONG_POLL_WAIT)
    while True:
        last = waits_on(login)
        conn.send(f"{issuer_path}/api/qrcodes/{login.id}?wait={wait:.1f}&last={last}", login.auth)
        wait = LONG_POLL_WAIT
        await conn.writer.drain()
        if not announced:
            announced = True
            ready()
        status, body = await conn.json()
        if status != 200:
            raise StepFailed("long poll", str(status), str(body)[:300])
        if body["status"] != last:
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
            raise StepFailed("poll", str(status), str(body)[:300])
        if body["status"] != waits_on(login):
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


@dataclass(slots=True)
class Result:
    browsers: int = 0  # waiting when the confirms began
    latencies_ms: list[float] = field(default_factory=list)  # of the logins the browser saw
    missed: Counter[str] = field(default_factory=Counter)  # confirmed logins it did not see
    other_failures: Counter[str] = field(default_factory=Counter)  # preparation, clean-up
    memory_per_browser_kib: float = 0.0
    cpu: CpuUse | None = None
    idle: CpuUse | None = None  # while the browsers only wait, before the confirms
    idle_requests: int = 0  # the browsers' requests meanwhile (re-polls, polls)
    codes_made: int = 0  # by the sandbox while the mode ran: the pool was too small if any
    server_exceptions: Counter[str] = field(default_factory=Counter)  # what its 500s were
    seconds: float = 0.0


def client(connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=connections, keepalive_expiry=2.0), timeout=120
    )


@asynccontextmanager
async def reporting(what: str, total: int, done: Callable[[], int]) -> AsyncIterator[None]:
    """Progress lines while the block runs: how many of ``total`` are done, at what rate, and
    how long the rest takes at that rate; then one line with the whole phase's time."""
    started = time.perf_counter()

    async def report() -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY)
            count, elapsed = done(), time.perf_counter() - started
            rate = count / elapsed
            left = f", about {(total - count) / rate:.0f} s left" if rate else ""
            progress(f"{what}: {count}/{total} ({rate:.1f}/s{left})")

    reporter = asyncio.create_task(report())
    try:
        yield
    finally:
        reporter.cancel()
        with suppress(asyncio.CancelledError):
            await reporter
    progress(f"{what}: {done()}/{total} in {time.perf_counter() - started:.0f} s")


async def prepare(
    server: Server, wechat: Server, label: str, count: int, scanned: int, failures: Counter[str]
) -> tuple[list[Login], list[Login]]:
    """``count`` QR logins created, the first ``scanned`` of them scanned too, ready for their
    browsers to wait on; and the logins created whose next step failed (to be cancelled, so
    their codes return). Only a scanned login can be confirmed; a browser waits on a login
    only created as on one scanned (a subscription, a wait, a re-poll every 25 s), and
    creating alone is the quarter of the requests: 10,000 logins, each scanned, took longer
    to prepare than a login lives."""
    logins: list[Login] = []
    stranded: list[Login] = []
    async with client(CONCURRENCY) as http:
        phone = Phone(http, wechat.public)
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(n: int) -> None:
            async with gate:
                # Any failure is counted, under its reason, and the login left out.
                try:
                    login = await create(http, server.issuer())
                except Exception as error:
                    failures[f"prepare: {reason(error)}"] += 1
                    return
                if n >= scanned:
                    logins.append(login)
                    return
                try:
                    await read_scene(http, server.public, login)
                    await phone.scan(server.public, login, f"waiting-{n % 500}")
                except Exception as error:
                    failures[f"prepare: {reason(error)}"] += 1
                    stranded.append(login)
                    return
                logins.append(login)

        async with reporting(f"{label}: prepared", count, lambda: len(logins)):
            await asyncio.gather(*(one(n) for n in range(count)))
    return logins, stranded


async def quiet(pid: int, longest: float) -> float:
    """Wait until the server uses less than ``QUIET`` of a core over a second (it has done
    what the browsers just asked), at most ``longest`` seconds; the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < longest:
        before = cpu_seconds(pid)
        await asyncio.sleep(1.0)
        if cpu_seconds(pid) - before < QUIET:
            break
    return time.perf_counter() - started


async def codes_made(wechat: Server) -> int:
    async with client(1) as http:
        return (await sandbox_calls(http, wechat.public)).get(CODE_API, 0)


@dataclass(frozen=True, slots=True)
class Deployment:
    """The server measured, the WeChat sandbox it calls, and the processes of the services
    beside it (the sandbox, PostgreSQL, Redis), whose CPU is counted apart."""

    server: Server
    wechat: Server
    beside: list[int]


async def measure(
    deployment: Deployment,
    mode: Mode,
    size: int,
    confirms: int,
    rate: float,
    rng: random.Random,
    idle: float,
) -> Result:
    server, wechat = deployment.server, deployment.wechat
    result = Result()
    began = time.perf_counter()
    codes_before = await codes_made(wechat)
    exceptions_before = logged_exceptions(server.log)
    scanned = min(size, int(confirms * (1 + SCANNED_MARGIN)) + 10)
    progress(
        f"{mode.label}: preparing {size} logins (create; and scene, wx.login, scan for "
        f"{scanned} of them)"
    )
    logins, stranded = await prepare(
        server, wechat, mode.label, size, scanned, result.other_failures
    )
    prepared_at = time.perf_counter()
    if prepared_at - began > LOGIN_LIFETIME - 60:
        progress(
            f"{mode.label}: WARNING: preparing took {prepared_at - began:.0f} s and a login "
            f"lives {LOGIN_LIFETIME} s: the first ones may expire before their confirm"
        )
    issuer_path = "/pools/demo"
    memory_before = rss_kib(server.pid)
    settled: set[str] = set()
    everyone = asyncio.Event()

    def settle(login: Login) -> None:
        """The browser of ``login`` is waiting, or has already stopped."""
        if login.id not in settled:
            settled.add(login.id)
            if len(settled) == len(logins):
                everyone.set()

    connections: list[RawHTTP] = []
    answers: dict[str, asyncio.Task[dict[str, object]]] = {}
    waiting: set[str] = set()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def browse(conn: RawHTTP, login: Login) -> dict[str, object]:
        def ready() -> None:
            waiting.add(login.id)
            settle(login)

        try:
            return await mode.wait(conn, issuer_path, login, ready, rng)
        finally:
            waiting.discard(login.id)
            settle(login)

    async def connect(login: Login) -> None:
        async with gate:
            try:
                conn = await RawHTTP.open(server.public)
            except OSError as error:
                result.other_failures[f"connect {type(error).__name__}"] += 1
                settle(login)
                return
        connections.append(conn)
        answers[login.id] = asyncio.create_task(browse(conn, login))

    try:
        progress(f"{mode.label}: connecting {len(logins)} browsers")
        async with reporting(f"{mode.label}: connected", len(logins), lambda: len(settled)):
            await asyncio.gather(*(connect(login) for login in logins))
            limit = 120 + len(logins) / 50
            with suppress(TimeoutError):
                async with asyncio.timeout(limit):
                    await everyone.wait()
        # What the last browsers asked of the server, it does before the measurement starts.
        settled_for = await quiet(server.pid, 5 + len(logins) / 1000)
        result.browsers = len(waiting)
        progress(
            f"{mode.label}: {result.browsers} of {size} browsers waiting "
            f"(the server settled in {settled_for:.0f} s)"
        )
        memory_after = rss_kib(server.pid)
        result.memory_per_browser_kib = (memory_after - memory_before) / max(1, result.browsers)
        # Nothing but the waiting: what keeping N browsers waiting costs the server.
        asked, meter = RawHTTP.sent, CpuMeter(server.pid, beside=deployment.beside)
        await asyncio.sleep(idle)
        result.idle, result.idle_requests = meter.stop(), RawHTTP.sent - asked
        by_id = {login.id: login for login in logins}
        confirmable = sorted(i for i in waiting if by_id[i].session)
        chosen = rng.sample(confirmable, min(confirms, len(confirmable)))
        progress(f"{mode.label}: confirming {len(chosen)} at {rate:g}/s")
        async with client(32) as http:
            phone = Phone(http, wechat.public)
            meter = CpuMeter(server.pid, beside=deployment.beside)
            start = time.perf_counter()
            confirming: dict[str, asyncio.Task[None]] = {}
            for i, login_id in enumerate(chosen):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                confirming[login_id] = asyncio.create_task(
                    phone.confirm(server.public, by_id[login_id])
                )
            await asyncio.gather(*confirming.values(), return_exceptions=True)
            confirmed = {i for i, task in confirming.items() if task.exception() is None}
            for confirm in confirming.values():
                if (error := confirm.exception()) is not None:
                    result.missed[reason(error, "confirm")] += 1
            if confirmed:
                await asyncio.wait([answers[i] for i in confirmed], timeout=2 * LONG_POLL_WAIT)
            result.cpu = meter.stop()
            authorized = []
            for login_id in confirmed:
                why = seen(answers[login_id])
                if why:
                    result.missed[why] += 1
                    continue
                login = by_id[login_id]
                result.latencies_ms.append((login.known - login.confirm_sent) * 1000)
                authorized.append(login)
            # Browsers that stopped waiting before the end, though nobody confirmed theirs.
            chosen_ids = set(chosen)
            result.other_failures.update(
                why
                for login_id, task in answers.items()
                if login_id not in chosen_ids and (why := dropped(task))
            )
            progress(
                f"{mode.label}: {len(result.latencies_ms)} of {len(chosen)} confirms seen by "
                f"their browsers; exchanging their codes, cancelling the other logins"
            )
            # The browsers leave first, so that the cancels below push nothing to them.
            await stop(answers, connections)
            await exchange_all(http, server, authorized, answers, result.other_failures)
            # A confirmed login can't be cancelled: the ones whose browser missed the
            # confirm keep their codes until they expire (the pool has room for them).
            unfinished = [login for login in logins if login.id not in confirmed] + stranded
            # Consumed and cancelled logins give their codes back for the next mode.
            await cancel_all(http, server, mode.label, unfinished, result.other_failures)
    finally:
        await stop(answers, connections)
    result.codes_made = await codes_made(wechat) - codes_before
    result.server_exceptions = logged_exceptions(server.log) - exceptions_before
    result.seconds = time.perf_counter() - began
    return result


async def stop(
    answers: dict[str, asyncio.Task[dict[str, object]]], connections: list[RawHTTP]
) -> None:
    """The browsers stop waiting and close their connections."""
    for waiter in answers.values():
        waiter.cancel()
    await asyncio.gather(*answers.values(), return_exceptions=True)
    for conn in connections:
        conn.close()
    connections.clear()


def dropped(task: asyncio.Task[dict[str, object]]) -> str:
    """Why a browser whose login nobody confirmed stopped waiting; ``""`` if it still waits."""
    if not task.done() or task.cancelled():
        return ""
    if (error := task.exception()) is not None:
        return f"browser stopped waiting: {reason(error)}"
    return f"browser stopped waiting: saw {task.result().get('status')}"


def seen(task: asyncio.Task[dict[str, object]]) -> str:
    """Why a browser did not see its confirmed login authorized; ``""`` if it did."""
    if not task.done() or task.cancelled():
        return f"browser not told within {2 * LONG_POLL_WAIT} s"
    if (error := task.exception()) is not None:
        return f"browser: {reason(error)}"
    status = task.result().get("status")
    return "" if status == "authorized" else f"browser saw {status}"


async def exchange_all(
    http: httpx.AsyncClient,
    server: Server,
    logins: Sequence[Login],
    answers: dict[str, asyncio.Task[dict[str, object]]],
    failures: Counter[str],
) -> None:
    gate = asyncio.Semaphore(8)

    async def one(login: Login) -> None:
        async with gate:
            code = str(answers[login.id].result()["code"])
            try:
                await exchange(http, server.issuer(), login, code)
            except Exception as error:
                failures[reason(error, "token")] += 1

    await asyncio.gather(*map(one, logins))


async def cancel_all(
    http: httpx.AsyncClient,
    server: Server,
    label: str,
    logins: Sequence[Login],
    failures: Counter[str],
) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)
    cancelled = 0

    async def cancel(login: Login) -> None:
        nonlocal cancelled
        async with gate:
            try:
                response = await answer(
                    "cancel",
                    http.delete(f"{server.issuer()}/api/qrcodes/{login.id}", headers=login.auth),
                )
                expect(response, 204, "cancel")
            except Exception as error:
                failures[reason(error, "cancel")] += 1
            cancelled += 1

    async with reporting(f"{label}: cancelled", len(logins), lambda: cancelled):
        await asyncio.gather(*map(cancel, logins))


async def fail_phone_calls(wechat: Server, times: int) -> None:
    """The sandbox answers the next ``times`` phone-number calls with errcode -1 (busy)."""
    async with client(1) as http:
        fault = {"path": "wxa/business/getuserphonenumber", "errcode": -1, "times": times}
        response = await http.post(f"{wechat.public}/_sandbox/wechat/faults", json=fault)
        expect(response, 200, "fault")
    progress(f"the sandbox fails the next {times} phone-number calls (errcode -1)")


async def warm_pool(server: Server, wechat: Server, codes: int) -> float:
    async with client(4) as http:
        return await fill_pool(http, [server.issuer()], wechat.public, codes)


@contextmanager
def stores(embedded: bool) -> Iterator[tuple[dict[str, str], list[int]]]:
    """The settings of the durable and ephemeral stores, and their server processes:
    PostgreSQL and Redis started here, or the embedded defaults (no process of their own)."""
    if embedded:
        yield {}, []
        return
    with shared_stores() as shared:
        yield shared.env("minilogin"), shared.pids()


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--sizes", default="1000,10000", help="browsers waiting at once, per run")
    p.add_argument("--confirms", type=int, default=300, help="logins confirmed per mode")
    p.add_argument("--rate", type=float, default=20.0, help="confirms a second (open loop)")
    p.add_argument("--hello", type=int, default=2000, help="hello-world requests (baseline)")
    p.add_argument(
        "--idle",
        type=float,
        default=10.0,
        help="seconds the server's CPU is measured with the browsers only waiting",
    )
    p.add_argument(
        "--fail-phone-calls",
        type=int,
        default=0,
        metavar="N",
        help="make the WeChat sandbox fail the first N phone-number calls (errcode -1, busy), "
        "so that N confirms fail: they are counted as missed and the run goes on",
    )
    p.add_argument(
        "--long-polls-together",
        action="store_true",
        help="start every long poll with the full 25 s wait, so that all of them end and come "
        "back at the same moments (by default each first wait is random, 1–25 s)",
    )
    p.add_argument(
        "--modes",
        default=",".join(mode.key for mode in MODES),
        help="the ways of waiting measured, of " + ", ".join(mode.key for mode in MODES),
    )
    p.add_argument(
        "--sqlite",
        action="store_true",
        help="a SQLite file and the in-process ephemeral store instead of PostgreSQL and Redis",
    )
    args = parse(p, QUICK)
    args.sizes = [int(size) for size in args.sizes.split(",")]
    args.modes = args.modes.split(",")
    if set(args.modes) - {mode.key for mode in MODES}:
        p.error("--modes takes " + ", ".join(mode.key for mode in MODES))
    return args


def _ms(value: float) -> str:
    return f"{value:.1f}"


def browsers_of(mode: Mode, size: int) -> int:
    return min(size, POLLERS) if mode.key == "poll800" else size


async def benchmark(args: argparse.Namespace) -> None:
    largest = max(args.sizes)
    # Per process: the client holds a socket per browser, and so does the server.
    limit = raise_open_files_limit(largest + 1000)
    store = (
        "SQLite file, in-process ephemeral store"
        if args.sqlite
        else "PostgreSQL and Redis started by this script"
    )
    print(f"waiting_browsers: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}; load average {load_average()} at the start")
    print(f"server:   python -m minilogin dev ({store}), one process;")
    print("          the WeChat sandbox in a process of its own; this client runs beside them")
    print(
        f"settings: sizes {args.sizes}, {args.confirms} confirms per mode at {args.rate:g}/s "
        f"(open loop); open-files limit {limit}"
    )
    say_if_quick(args)
    print(flush=True)
    hello = await hello_world_baseline(args.hello)
    print(f"baseline: a hello-world request costs the server {hello.cpu_ms:.3f} ms of CPU")
    rng = random.Random()
    for size in args.sizes:
        # Every login of a mode is cancelled or consumed before the next, and its code comes
        # back after the quarantine: the pool needs one code per browser, and room for the
        # confirmed logins whose code a failure left lent out.
        pool = size + args.confirms + 50
        env = {
            "MINILOGIN_QR_EXPIRES_IN": str(LOGIN_LIFETIME),
            # The modes share one pool made beforehand: its codes are recycled between them
            # (each login then matches numbers, as the phone does here).
            "MINILOGIN_CODE_POOL_RECYCLE": "true",
            "MINILOGIN_CODE_POOL_QUARANTINE": str(QUARANTINE),
            **pool_settings(pool),
        }
        started = time.perf_counter()
        with ExitStack() as stack:
            settings, store_pids = stack.enter_context(stores(args.sqlite))
            wechat = stack.enter_context(minilogin_sandbox())
            server = stack.enter_context(minilogin_dev(**env, **settings, **against(wechat)))
            deployment = Deployment(server, wechat, [wechat.pid, *store_pids])
            progress(
                f"{size} browsers: server started, open-files limit {open_files_limit(server.pid)}"
                f"; filling a code pool of {pool} (at most {FASTEST_FILL:.1f} codes/s, the "
                f"filler's share of WeChat's budget: {pool / FASTEST_FILL:.0f} s at best)"
            )
            warmed = await warm_pool(server, wechat, pool)
            print(f"{size} browsers: code pool of {pool} filled in {warmed:.0f} s", flush=True)
            if args.fail_phone_calls:
                await fail_phone_calls(wechat, args.fail_phone_calls)
            results: dict[str, Result] = {}
            modes = tuple(
                Mode(mode.key, mode.label, partial(wait_long_poll, together=True))
                if mode.key == "longpoll" and args.long_polls_together
                else mode
                for mode in MODES
                if mode.key in args.modes
            )
            for n, mode in enumerate(modes):
                results[mode.key] = result = await measure(
                    deployment,
                    mode,
                    browsers_of(mode, size),
                    args.confirms,
                    args.rate,
                    rng,
                    args.idle,
                )
                # What the rest takes at this mode's pace per browser.
                pace = result.seconds / browsers_of(mode, size)
                rest = sum(browsers_of(later, size) for later in modes[n + 1 :]) * pace
                progress(
                    f"{mode.label}: done in {result.seconds:.0f} s"
                    + (f"; the other modes: about {rest:.0f} s at this pace" if rest else "")
                )
                # The quarantine of the codes just given back, before the next mode leases.
                await asyncio.sleep(QUARANTINE + 1.5)
        report(size, results, time.perf_counter() - started, hello)


def _figures(values: list[float]) -> Summary | None:
    return Summary.of(values) if values else None


def report(size: int, results: dict[str, Result], seconds: float, hello: HelloWorld) -> None:
    shown = [mode for mode in MODES if mode.key in results]
    polled = results.get("poll800")
    baseline = _figures(polled.latencies_ms) if polled else None
    rows = []
    for mode in shown:
        result = results[mode.key]
        figures = _figures(result.latencies_ms)
        cpu = result.cpu
        confirmed = len(result.latencies_ms) + sum(result.missed.values())
        ms = 1000 * cpu.server / confirmed if cpu and confirmed else None
        rows.append(
            [
                mode.label,
                str(result.browsers),
                str(figures.n if figures else 0),
                str(sum(result.missed.values())),
                _ms(figures.p50) if figures else "-",
                _ms(figures.p90) if figures else "-",
                _ms(figures.p99) if figures else "-",
                _ms(figures.max) if figures else "-",
                f"{baseline.p99 / figures.p99:.0f}×" if baseline and figures else "-",
                f"{result.memory_per_browser_kib:.1f}",
                cpu.share(cpu.server) if cpu else "-",
                f"{ms:.1f}" if ms is not None else "-",
                f"{ms / hello.cpu_ms:.0f}×" if ms is not None else "-",
                cpu.share(cpu.client) if cpu else "-",
                cpu.share(cpu.beside) if cpu else "-",
                cpu.share(cpu.others) if cpu else "-",
            ]
        )
    headers = [
        f"{size} waiting",
        "browsers",
        "n",
        "missed",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "p99 vs poll",
        "KiB/browser",
        "server CPU",
        "ms/confirm",
        "hello-worlds",
        "client CPU",
        "beside CPU",
        "others CPU",
    ]
    print(table(headers, rows))
    print("  n: the confirmed logins whose browser saw them; the percentiles are over these only")
    print(
        "  CPU over the confirms (100 % = one core): the server's, per confirm sent and in "
        "hello-world\n  requests; this client's; beside: the sandbox's and the stores'; others: "
        "the rest of the machine"
    )
    print()
    idle_rows = []
    for mode in shown:
        result = results[mode.key]
        cpu, asked = result.idle, result.idle_requests
        if cpu is None:
            continue
        each = 1000 * cpu.server / asked if asked else None
        idle_rows.append(
            [
                mode.label,
                str(result.browsers),
                f"{cpu.wall:.1f}",
                f"{asked / cpu.wall:.1f}",
                cpu.share(cpu.server),
                f"{each:.3f}" if each is not None else "-",
                f"{each / hello.cpu_ms:.1f}×" if each is not None else "-",
                cpu.share(cpu.others),
            ]
        )
    headers = [
        "only waiting",
        "browsers",
        "wall s",
        "requests/s",
        "server CPU",
        "ms/request",
        "hello-worlds",
        "others CPU",
    ]
    print(table(headers, idle_rows))
    print(
        "  the server's CPU while the browsers only wait, before any confirm, and the requests "
        "they\n  made meanwhile (long polls asked again, polls); all the server's CPU is "
        "counted against them"
    )
    failures(
        "missed (confirms that failed, or that the browser did not see), by reason",
        {mode.label: results[mode.key].missed for mode in shown},
    )
    failures(
        "other failures (not in the figures: preparing, connecting, waiting, clean-up)",
        {mode.label: results[mode.key].other_failures for mode in shown},
    )
    failures(
        "exceptions the server logged (its 500s), by the line ending the traceback",
        {mode.label: results[mode.key].server_exceptions for mode in shown},
    )
    for mode in shown:
        if results[mode.key].codes_made:
            print(f"  {mode.label}: {results[mode.key].codes_made} codes made during the mode")
    if size > POLLERS and polled:
        print(f"  (the 800 ms pollers were {POLLERS}, not {size}: see POLLERS in the script)")
    for mode in shown:
        if mode.key not in GOALS_MS:
            continue
        goal = GOALS_MS[mode.key]
        figures = _figures(results[mode.key].latencies_ms)
        if figures is None:
            print(f"  goal (issue 17) p99 ≤ {goal:g} ms ({mode.label}): no login seen → MISSED")
            continue
        verdict = "met" if figures.p99 <= goal else f"MISSED by {figures.p99 - goal:.1f} ms"
        print(
            f"  goal (issue 17) p99 ≤ {goal:g} ms ({mode.label}): {_ms(figures.p99)} ms → {verdict}"
        )
    print(
        f"  the {size}-browser run took {seconds:.0f} s; load average {load_average()} at its end"
    )
    print(flush=True)


def failures(title: str, by_mode: dict[str, Counter[str]]) -> None:
    if not any(by_mode.values()):
        print(f"  {title}: none")
        return
    print(f"  {title}:")
    for label, counts in by_mode.items():
        for why, count in sorted(counts.items()):
            print(f"    {label}: {why}: {count}")


def main() -> None:
    run(benchmark(arguments()))


if __name__ == "__main__":
    main()
