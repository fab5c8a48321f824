"""Server CPU: a login, a re-poll, a code and a creation, in hello-world requests of the same run.

Every figure is the server process's CPU (user + system, all threads, from ``/proc``) over a
stretch of work, divided by the work done, and printed beside the CPU of one request to a
FastAPI hello-world (``bench/_hello.py``) under the same uvicorn settings, measured first in
the same run. The WeChat sandbox runs in a process of its own (``minilogin sandbox``), so its
CPU is never the server's. The server is ``minilogin dev`` on its defaults (SQLite file,
in-process ephemeral store) with ``MINILOGIN_WECHAT_API_URL`` at that sandbox.

In order:

1. **code making**: the pool (``--pool`` codes) is filled with nothing else running; the
   server's CPU over the codes made (``getwxacodeunlimit`` answered by the sandbox, its bytes
   stored; the demo's identity source has no logo, so nothing is composed);
2. **re-poll**: ``--waiting`` browsers each long-poll an unscanned login with
   ``?wait=--wait&last=pending``, which ends without news and is asked again, for
   ``--seconds``, each browser on a keep-alive connection of its own (``RawHTTP``); the
   server's CPU over the re-polls answered, in hello-world requests sent the same way:
   over as many connections, each idle ``--wait`` between requests, for as long
   (``paced_hello``). The goal is judged on that one; the ratio to a hello-world sent back
   to back by ``RawHTTP`` is printed beside it;
3. **creation**: ``--creates`` QR logins created one at a time (``POST …/api/qrcodes``),
   their latency over HTTP beside the hello-world's, one request at a time. Back to back,
   they take codes far faster than the filler may remake them (``--pool`` codes, then about
   40 a second: half of WeChat's 5,000 a minute): once the pool is dry a creation waits for
   a code made on demand, a WeChat call (the sandbox draws it). So their latency is printed
   twice: back to back, and **steady**: ``--steady-creates`` more, one at a time at
   ``--create-rate`` a second, which the filler keeps up with, each creation's code remade
   meanwhile; the pool's size as the filler last counted it (``minilogin_code_pool_size`` on
   ``/metrics``) is read every ``SIZE_EVERY`` creations, to show that it never ran dry.
   Half-way between each two a hello-world request is sent (the same client, one at a time,
   the same rate): a request that finds client and server idle pays their wake-ups, which a
   request sent back to back doesn't, so the steady creations' latency is judged beside the
   hello-world's sent so at the same moments, the least such a request takes here;
4. **complete login**: ``--users`` people at once (closed loop) for ``--seconds``: create, the
   code's image (decoded here to read its scene), scan, a long poll that sees the confirm,
   confirm, token, after one unmeasured login each (the first token request imports the
   pool's signing keys, a cost paid once a process) and the filler's catching up. The pool's
   filler remakes the codes the logins use meanwhile; its CPU is in the figure, and the codes
   it made are printed beside the logins.

``--recycle`` runs it all with ``MINILOGIN_CODE_POOL_RECYCLE=true``, the deployment that
returns codes to the pool after their logins (each login then matches numbers): a steady-state
login then remakes no code, which is the other end of the range a deployment chooses from.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from _drive import (
    HelloWorld,
    Phone,
    RawHTTP,
    StepFailed,
    answer,
    complete_login,
    create,
    expect,
    fill_pool,
    hello_world_baseline,
    pool_settings,
    reason,
    sandbox_calls,
    timed_create,
)
from common import (
    Server,
    Summary,
    cpu_seconds,
    hello_world,
    machine,
    minilogin_dev_and_sandbox,
    parse,
    parser,
    run,
    say_if_quick,
    table,
)
from tests.support.metrics import samples

QUICK = {
    "hello": 200,
    "pool": 20,
    "waiting": 5,
    "wait": 0.2,
    "creates": 20,
    "steady_creates": 20,
    "users": 2,
    "seconds": 2.0,
}
CODES = "wxa/getwxacodeunlimit"
#: The issue's goals, in hello-world requests' CPU and milliseconds.
LOGIN_GOAL = 15.0
REPOLL_GOAL = 1.5
CODE_GOAL_MS = 2.0
CREATION_GOAL_MS = 2.0
#: Steady creations between two readings of the pool's size.
SIZE_EVERY = 50


@dataclass(frozen=True, slots=True)
class Work:
    """Server CPU over a count of units of work, and what else happened meanwhile."""

    what: str
    units: int
    cpu: float  # seconds
    codes: int  # codes the sandbox made meanwhile
    failures: Counter[str]

    def ms(self) -> float:
        return self.cpu * 1000 / self.units if self.units else float("nan")


async def codes_made(http: httpx.AsyncClient, wechat: str) -> int:
    return (await sandbox_calls(http, wechat)).get(CODES, 0)


async def settle(http: httpx.AsyncClient, wechat: str) -> None:
    """Wait until the sandbox has made no code for two seconds: the filler has caught up."""
    last, still = await codes_made(http, wechat), 0
    while still < 4:
        await asyncio.sleep(0.5)
        now = await codes_made(http, wechat)
        still = still + 1 if now == last else 0
        last = now


async def code_making(http: httpx.AsyncClient, server: Server, wechat: str, pool: int) -> Work:
    before = cpu_seconds(server.pid)
    await fill_pool(http, [server.issuer()], wechat, pool)
    await settle(http, wechat)
    made = await codes_made(http, wechat)
    return Work("code made", made, cpu_seconds(server.pid) - before, made, Counter())


async def keep_asking(
    conns: list[RawHTTP],
    spread: float,
    seconds: float,
    ask: Callable[[int, RawHTTP], Awaitable[None]],
    step: str,
) -> tuple[int, Counter[str]]:
    """Each connection a browser of its own: it asks first after its share of ``spread`` (as
    browsers that arrived at different moments do), then again as soon as ``ask`` returns, for
    ``seconds``; a failure stops it, its connection's state unknown. The answers, and the
    failures by reason."""
    failures: Counter[str] = Counter()
    answered = 0
    until = time.perf_counter() + seconds

    async def browser(n: int, conn: RawHTTP) -> None:
        nonlocal answered
        await asyncio.sleep(spread * n / len(conns))
        while time.perf_counter() < until:
            try:
                await ask(n, conn)
            except Exception as error:
                failures[reason(error, step)] += 1
                return
            answered += 1

    await asyncio.gather(*(browser(n, conn) for n, conn in enumerate(conns)))
    return answered, failures


async def re_polls(
    http: httpx.AsyncClient, server: Server, wechat: str, args: argparse.Namespace
) -> Work:
    logins = [await create(http, server.issuer()) for _ in range(args.waiting)]
    await settle(http, wechat)  # the filler remakes the codes these logins took
    paths = [
        f"/pools/demo/api/qrcodes/{login.id}?wait={args.wait:g}&last=pending" for login in logins
    ]

    async def re_poll(n: int, conn: RawHTTP) -> None:
        conn.send(paths[n], logins[n].auth)
        status, body = await asyncio.wait_for(conn.json(), args.wait + 30)
        if status != 200:
            raise StepFailed("re-poll", str(status))
        if body.get("status") != "pending":
            raise StepFailed("re-poll", f"saw {body.get('status')}")

    # One connection per browser, each kept alive, as a browser keeps its own; sent by
    # ``RawHTTP`` rather than httpx, whose pool of 200 connections held the re-polls to about
    # 50 a second where the browsers ask 200 (every ``--wait``).
    conns = [await RawHTTP.open(server.public) for _ in logins]
    codes = await codes_made(http, wechat)
    before = cpu_seconds(server.pid)
    try:
        answered, failures = await keep_asking(conns, args.wait, args.seconds, re_poll, "re-poll")
    finally:
        cpu = cpu_seconds(server.pid) - before
        for conn in conns:
            conn.close()
    return Work("re-poll", answered, cpu, await codes_made(http, wechat) - codes, failures)


async def paced_hello(args: argparse.Namespace) -> Work:
    """The re-polls' like-for-like baseline: hello-world requests sent exactly as the re-polls
    are (``--waiting`` kept-alive ``RawHTTP`` connections, each idle ``--wait`` seconds between
    its answer and its next request, spread over one wait, for ``--seconds``), the server's
    CPU read from ``/proc`` as the re-polls' is (``cpu_seconds``: user + system, all threads).

    A request that finds the server and its client idle pays both their wake-ups (the
    server's event loop, and in the server's system time the client it answers), which
    requests sent back to back share; a re-poll always arrives so."""

    async def hello(_: int, conn: RawHTTP) -> None:
        conn.send("/hello", {})
        status, _ = await asyncio.wait_for(conn.raw(), 30)
        if status != 200:
            raise StepFailed("hello", str(status))
        await asyncio.sleep(args.wait)

    with hello_world() as server:
        conns = [await RawHTTP.open(server.public) for _ in range(args.waiting)]
        try:
            for conn in conns:  # imports and first-request work, not the steady cost
                conn.send("/hello", {})
                await conn.raw()
            before = cpu_seconds(server.pid)
            answered, failures = await keep_asking(conns, args.wait, args.seconds, hello, "hello")
            cpu = cpu_seconds(server.pid) - before
        finally:
            for conn in conns:
                conn.close()
    return Work("hello, paced", answered, cpu, 0, failures)


async def creations(
    http: httpx.AsyncClient, server: Server, count: int
) -> tuple[list[float], Counter[str]]:
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    for _ in range(count):
        await timed_create(http, server.issuer(), latencies, failures)
    return latencies, failures


async def pool_size(http: httpx.AsyncClient, server: Server) -> int | None:
    """The smallest of the pools' sizes on ``/metrics`` (the demo's only, here), as the filler
    last counted it; ``None`` before it has counted any."""
    exposed = samples((await http.get(f"{server.public}/metrics")).text)
    sizes = [value for (name, _), value in exposed.items() if name == "minilogin_code_pool_size"]
    return int(min(sizes)) if sizes else None


@dataclass(frozen=True, slots=True)
class Steady:
    """Creations at a steady rate: their latencies, failures, and the pool's sizes read; and
    the latencies of as many hello-world requests sent between them."""

    latencies: list[float]
    failures: Counter[str]
    sizes: list[int]
    hello_latencies: list[float]


async def steady_creations(
    http: httpx.AsyncClient, server: Server, hello: Server, count: int, rate: float
) -> Steady:
    """``count`` creations one at a time, ``rate`` a second on a fixed schedule (a slow one
    is not followed by a pause to make up for it), and a hello-world request half-way between
    each two, the same client at the same rate: what disturbs the machine meanwhile disturbs
    both alike."""
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    sizes: list[int] = []
    hello_latencies: list[float] = []
    url = f"{hello.public}/hello"

    async def say_hello(into: list[float]) -> None:
        started = time.perf_counter()
        expect(await answer("hello", http.get(url)), 200, "hello")
        into.append((time.perf_counter() - started) * 1000)

    for _ in range(SIZE_EVERY):
        await say_hello([])  # the hello-world's connection made and its server warm first
    due = time.perf_counter()
    for n in range(count):
        if n % SIZE_EVERY == 0 and (size := await pool_size(http, server)) is not None:
            sizes.append(size)
        due += 1 / rate / 2
        await asyncio.sleep(max(due - time.perf_counter(), 0.0))
        await say_hello(hello_latencies)
        due += 1 / rate / 2
        await asyncio.sleep(max(due - time.perf_counter(), 0.0))
        await timed_create(http, server.issuer(), latencies, failures)
    if (size := await pool_size(http, server)) is not None:
        sizes.append(size)
    return Steady(latencies, failures, sizes, hello_latencies)


async def logins(
    http: httpx.AsyncClient, server: Server, wechat: str, args: argparse.Namespace
) -> Work:
    phone = Phone(http, wechat)
    failures: Counter[str] = Counter()
    completed = 0

    async def person(slot: int) -> None:
        nonlocal completed
        while time.perf_counter() < until:
            try:
                await complete_login(http, phone, f"cpu-{slot}", server, from_image=True)
            except Exception as error:
                failures[reason(error)] += 1
                continue
            completed += 1

    # One login each first, unmeasured: the steady state, not the first token's import of the
    # pool's signing keys (an RSA key's check is some 50 ms, once a process).
    await asyncio.gather(
        *(complete_login(http, phone, f"cpu-{slot}", server) for slot in range(args.users))
    )
    await settle(http, wechat)  # the codes the creations and these took are remade first
    codes = await codes_made(http, wechat)
    before, until = cpu_seconds(server.pid), time.perf_counter() + args.seconds
    await asyncio.gather(*(person(slot) for slot in range(args.users)))
    cpu = cpu_seconds(server.pid) - before
    return Work("complete login", completed, cpu, await codes_made(http, wechat) - codes, failures)


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--hello", type=int, default=4000, help="hello-world requests (baseline)")
    p.add_argument("--pool", type=int, default=300, help="codes made before the rest")
    p.add_argument("--waiting", type=int, default=200, help="browsers re-polling")
    p.add_argument("--wait", type=float, default=1.0, help="each re-poll's wait, seconds")
    p.add_argument("--creates", type=int, default=1000, help="creations, one at a time")
    p.add_argument(
        "--steady-creates", type=int, default=600, help="creations at --create-rate, after"
    )
    p.add_argument("--create-rate", type=float, default=20.0, help="steady creations a second")
    p.add_argument("--users", type=int, default=4, help="people logging in at once")
    p.add_argument("--seconds", type=float, default=20.0, help="seconds of re-polls, of logins")
    p.add_argument(
        "--recycle", action="store_true", help="codes return to the pool (number matching)"
    )
    return parse(p, QUICK)


def hello_x(ms: float, unit_ms: float) -> str:
    return f"{ms / unit_ms:.1f}×"


def verdict(value: float, goal: float, unit: str) -> str:
    met = "met" if value <= goal else f"MISSED by {value - goal:.2f}{unit}"
    return f"{value:.2f}{unit} (goal ≤ {goal:g}{unit}) → {met}"


def report(
    hello: HelloWorld,
    like: Work,
    args: argparse.Namespace,
    work: list[Work],
    created: list[float],
    create_failures: Counter[str],
    steady: Steady | None,
    rate: float,
) -> None:
    print(f"baseline: a hello-world request costs the server {hello.cpu_ms:.3f} ms of CPU")
    print(f"          {hello.light_cpu_ms:.3f} ms sent back to back by RawHTTP (4 connections)")
    print(
        f"          {like.ms():.3f} ms sent as the re-polls are, by RawHTTP ({args.waiting}"
        f" connections, each idle {args.wait:g} s between requests; {like.units} in"
        f" {args.seconds:g} s):"
    )
    print("          the unit of the re-poll's row and of its goal")
    rows = [
        [
            item.what,
            str(item.units),
            f"{item.cpu:.2f}",
            f"{item.ms():.3f}",
            hello_x(item.ms(), like.ms() if item.what == "re-poll" else hello.cpu_ms),
            f"{item.codes / item.units:.2f}" if item.units else "-",
            str(sum(item.failures.values())),
        ]
        for item in work
    ]
    headers = ["work", "n", "server CPU s", "ms each", "hello-worlds", "codes made each", "failed"]
    print(table(headers, rows))
    print("  failed, by reason:", end="")
    failures = [
        (item.what, why, n) for item in (like, *work) for why, n in sorted(item.failures.items())
    ]
    print(" none" if not failures else "")
    for what, why, n in failures:
        print(f"    {what}: {why}: {n}")
    print()
    mine, theirs = Summary.of(created), Summary.of(hello.latencies_ms)
    summaries = [("QR-login creation, back to back", mine), ("hello-world, back to back", theirs)]
    if steady is not None:
        summaries.append((f"QR-login creation, {rate:g}/s", Summary.of(steady.latencies)))
        summaries.append((f"hello-world, {rate:g}/s", Summary.of(steady.hello_latencies)))
    print("Latency over HTTP, one request at a time")
    print(
        table(
            ["request", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"],
            [
                [label, str(s.n), f"{s.p50:.2f}", f"{s.p90:.2f}", f"{s.p99:.2f}", f"{s.max:.2f}"]
                for label, s in summaries
            ],
        )
    )
    print(f"  creations failed, by reason: {dict(create_failures) or 'none'}")
    if steady is None:
        print(
            "  steady creations: not measured with --recycle (each creation holds its code until"
            " its login expires, so the ring is soon lent out whatever the rate)"
        )
    else:
        print(f"  steady creations failed, by reason: {dict(steady.failures) or 'none'}")
        sizes = ", ".join(str(size) for size in steady.sizes) or "never counted"
        print(f"  the pool's size during the steady creations (every {SIZE_EVERY}): {sizes}")
    print()
    code, poll, _, login = work
    print("goals (issue 17)")
    print(f"  code making, server CPU a code (no logo): {verdict(code.ms(), CODE_GOAL_MS, ' ms')}")
    repoll = poll.ms() / like.ms()
    print(
        "  re-poll, in hello-worlds sent as the re-polls are (judged on this one):"
        f" {verdict(repoll, REPOLL_GOAL, '×')}"
    )
    print(
        "    in hello-worlds sent back to back by RawHTTP (not judged: each finds the server"
        f" and its client awake): {poll.ms() / hello.light_cpu_ms:.2f}×"
    )
    if steady is not None:
        p99 = Summary.of(steady.latencies).p99
        floor = Summary.of(steady.hello_latencies).p99
        print(f"  creation p99 over HTTP, {rate:g}/s: {verdict(p99, CREATION_GOAL_MS, ' ms')}")
        print(
            f"  creation p99 over HTTP, {rate:g}/s, above the p99 of the hello-worlds between them"
            f" ({floor:.2f} ms): {verdict(p99 - floor, CREATION_GOAL_MS, ' ms')}"
        )
    print(f"  creation p99 over HTTP, back to back: {verdict(mine.p99, CREATION_GOAL_MS, ' ms')}")
    print(
        f"  complete login, in hello-worlds: {verdict(login.ms() / hello.cpu_ms, LOGIN_GOAL, '×')}"
    )


async def benchmark(args: argparse.Namespace) -> None:
    print(f"server_cpu: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}")
    print(
        f"settings: {args.hello} hello-world requests; a pool of {args.pool} codes; "
        f"{args.waiting} browsers re-polling (wait {args.wait:g} s); {args.creates} creations, "
        f"then {args.steady_creates} at {args.create_rate:g}/s (a hello-world between each two); "
        f"{args.users} people logging in at once; {args.seconds:g} s each; codes "
        f"{'recycled (MINILOGIN_CODE_POOL_RECYCLE=true)' if args.recycle else 'single-use'}"
    )
    say_if_quick(args)
    print(flush=True)
    hello = await hello_world_baseline(args.hello)
    like = await paced_hello(args)
    env = {"MINILOGIN_CODE_POOL_QUARANTINE": "1", **pool_settings(args.pool)}
    if args.recycle:
        env["MINILOGIN_CODE_POOL_RECYCLE"] = "true"
    with minilogin_dev_and_sandbox(**env) as (server, wechat):
        limits = httpx.Limits(max_connections=args.waiting + 4 * args.users + 8)
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:
            code = await code_making(http, server, wechat.public, args.pool)
            poll = await re_polls(http, server, wechat.public, args)
            codes, before = await codes_made(http, wechat.public), cpu_seconds(server.pid)
            created, create_failures = await creations(http, server, args.creates)
            creating = Work(
                "creation",
                len(created),
                cpu_seconds(server.pid) - before,
                await codes_made(http, wechat.public) - codes,
                create_failures,
            )
            steady = None
            if not args.recycle:
                await settle(http, wechat.public)  # the pool is whole again first
                with hello_world() as floor:
                    steady = await steady_creations(
                        http, server, floor, args.steady_creates, args.create_rate
                    )
            login = await logins(http, server, wechat.public, args)
    report(
        hello,
        like,
        args,
        [code, poll, creating, login],
        created,
        create_failures,
        steady,
        args.create_rate,
    )


def main() -> None:
    run(benchmark(arguments()))


if __name__ == "__main__":
    main()
