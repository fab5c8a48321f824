"""Workers: serve --workers 2 on Redis against one worker, logins a second and server CPU a login.

``python -m minilogin serve`` as production runs it (no demo, no sandbox of its own), on one
PostgreSQL and one Redis started by this script, with the WeChat sandbox in a process of its
own, first with ``--workers 1`` and then with ``--workers 2`` (``--workers`` names the counts),
each on a database and a Redis prefix of its own seeded alike (``minilogin dev`` seeds the demo
once, and every deployment's database is a copy of that one), under the same settings.

The load: ``--clients`` processes (``bench/_load.py``, each on uvloop with hand-written
HTTP/1.1 connections) of ``--users`` people each, every person logging in over and over
(closed loop) with the requests a real login makes: create, the code's image (its scene
decoded once per image), ``wx.login`` and scan, a long poll that sees the confirm, the phone
number and confirm, the token. The code pool is made before measuring and recycles its codes
(``MINILOGIN_CODE_POOL_RECYCLE``, 1 s quarantine; each login then matches numbers), so that
no code is drawn while measuring: the sandbox draws a code in some 30 ms of CPU, which would
take the cores the workers are measured on.

Measured over ``--seconds`` after ``--warmup``: the logins completed a second, and the CPU
(``/proc``, user + system) of the server (uvicorn's supervisor and every worker under it) per
login, also in FastAPI hello-world requests (``bench/_hello.py``) measured first in the same
run; beside them, the CPU of the load generators, of the services (sandbox, PostgreSQL,
Redis), and of everything else on the machine. Everything shares the machine's cores: when
they are all busy, the logins a second say how the cores were shared, and the server's CPU a
login says what each login cost it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _drive import (
    HelloWorld,
    SharedStores,
    fill_pool,
    hello_world_baseline,
    pool_settings,
    sandbox_calls,
    shared_stores,
)
from common import (
    Server,
    Summary,
    against,
    load_average,
    machine,
    machine_cpu_seconds,
    minilogin_dev,
    minilogin_sandbox,
    minilogin_serve,
    parse,
    parser,
    run,
    say_if_quick,
    table,
    tree_cpu_seconds,
    usable_cores,
)

from minilogin.config import SANDBOX_APP_ID, SANDBOX_APP_SECRET

QUICK = {"clients": 1, "users": 2, "seconds": 4.0, "warmup": 2.0, "pool": 20, "hello": 200}
LOAD = Path(__file__).with_name("_load.py")
#: The database every deployment's is a copy of: the demo seeded once.
SEEDED = "seeded"
CODES = "wxa/getwxacodeunlimit"
#: Issue 17's goal: two workers give at least this many times the logins a second of one.
GOAL = 1.8


@dataclass
class Outcome:
    workers: int
    latencies_ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)  # seconds, by whose
    wall: float = 0.0
    codes_made: int = 0

    def rate(self) -> float:
        return len(self.latencies_ms) / self.wall if self.wall else 0.0

    def server_ms(self) -> float | None:
        logins = len(self.latencies_ms)
        return 1000 * self.cpu["server"] / logins if logins else None


def cpu_by_group(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each group of processes (each with the processes under it), and
    of the whole machine."""
    found = {name: sum(map(tree_cpu_seconds, pids)) for name, pids in groups.items()}
    found["machine"] = machine_cpu_seconds()
    return found


def clients(
    server: Server, wechat: Server, args: argparse.Namespace
) -> list[subprocess.Popen[str]]:
    started = []
    for n in range(args.clients):
        settings = {
            "api": server.public,
            "wechat": wechat.public,
            "users": args.users,
            "name": f"load{n}",
            "warmup": args.warmup,
            "seconds": args.seconds,
        }
        started.append(
            subprocess.Popen(
                [sys.executable, str(LOAD), json.dumps(settings)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    return started


async def drive(
    server: Server, wechat: Server, beside: list[int], workers: int, args: argparse.Namespace
) -> Outcome:
    outcome = Outcome(workers)
    load = clients(server, wechat, args)
    try:
        for process in load:
            assert process.stdout is not None
            line = await asyncio.to_thread(process.stdout.readline)
            if line.strip() != "ready":
                raise RuntimeError(f"a load generator did not start: {line!r}")
        start = time.time() + 0.5
        for process in load:
            assert process.stdin is not None
            process.stdin.write(f"{start}\n")
            process.stdin.flush()
        groups = {
            "server": [server.pid],
            "load": [process.pid for process in load],
            "beside": beside,
        }
        async with httpx.AsyncClient(timeout=60) as http:
            await asyncio.sleep(start + args.warmup - time.time())
            codes = (await sandbox_calls(http, wechat.public)).get(CODES, 0)
            before, began = cpu_by_group(groups), time.perf_counter()
            await asyncio.sleep(start + args.warmup + args.seconds - time.time())
            after, outcome.wall = cpu_by_group(groups), time.perf_counter() - began
            outcome.codes_made = (await sandbox_calls(http, wechat.public)).get(CODES, 0) - codes
        spent = {name: after[name] - before[name] for name in after}
        spent["others"] = max(
            0.0, spent.pop("machine") - spent["server"] - spent["load"] - spent["beside"]
        )
        outcome.cpu = spent
        for process in load:
            out, _ = await asyncio.to_thread(process.communicate, timeout=120)
            result = json.loads(out.strip().splitlines()[-1])
            outcome.latencies_ms += result["latencies_ms"]
            outcome.failures.update(result["failures"])
    finally:
        for process in load:
            if process.poll() is None:
                process.kill()
                process.wait()
    return outcome


async def deployment(
    stores: SharedStores,
    wechat: Server,
    beside: list[int],
    name: str,
    workers: int,
    args: argparse.Namespace,
) -> Outcome:
    env = stores.env(name, template=SEEDED) | serve_settings(wechat, args.pool)
    with minilogin_serve(workers, **env) as server:
        async with httpx.AsyncClient(timeout=60) as http:
            made = (await sandbox_calls(http, wechat.public)).get(CODES, 0)
            await fill_pool(http, [server.issuer()], wechat.public, made + args.pool)
        return await drive(server, wechat, beside, workers, args)


def serve_settings(wechat: Server, pool: int) -> dict[str, str]:
    return {
        **against(wechat),
        # The platform's mini program: the sandbox's, as ``minilogin dev`` uses by itself.
        "MINILOGIN_WECHAT_APP_ID": SANDBOX_APP_ID,
        "MINILOGIN_WECHAT_APP_SECRET": SANDBOX_APP_SECRET,
        "MINILOGIN_CODE_POOL_RECYCLE": "true",
        "MINILOGIN_CODE_POOL_QUARANTINE": "1",
        **pool_settings(pool),
    }


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--workers", default="1,2", help="worker counts to compare, the first the base")
    p.add_argument("--clients", type=int, default=2, help="load-generating processes")
    p.add_argument("--users", type=int, default=8, help="people logging in at once per process")
    p.add_argument("--seconds", type=float, default=20.0, help="measured seconds per deployment")
    p.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first")
    p.add_argument("--pool", type=int, default=300, help="codes in the pool (recycled)")
    p.add_argument("--hello", type=int, default=2000, help="hello-world requests (baseline)")
    args = parse(p, QUICK)
    try:
        args.workers = [int(count) for count in args.workers.split(",")]
    except ValueError:
        p.error("--workers takes worker counts: 1,2")
    if min(args.workers) < 1 or args.clients < 1 or args.users < 1 or args.seconds <= 0:
        p.error("--workers, --clients and --users must be ≥ 1, --seconds > 0")
    return args


async def benchmark(args: argparse.Namespace) -> None:
    print(f"workers: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}; load average {load_average()} at the start")
    print(
        f"settings: serve --workers {', '.join(map(str, args.workers))} on PostgreSQL + Redis; "
        f"{args.clients} load processes × {args.users} people (closed loop); {args.seconds:g} s "
        f"measured after {args.warmup:g} s; a recycled pool of {args.pool} codes"
    )
    say_if_quick(args)
    print(flush=True)
    hello = await hello_world_baseline(args.hello)
    outcomes = []
    with shared_stores() as stores, minilogin_sandbox() as wechat:
        # The demo, seeded once by ``minilogin dev``: every deployment's database copies it.
        with minilogin_dev(**stores.env(SEEDED), **against(wechat)):
            pass
        beside = [wechat.pid, *stores.pids()]
        for workers in args.workers:
            outcomes.append(
                await deployment(stores, wechat, beside, f"workers{workers}", workers, args)
            )
    report(outcomes, hello)
    print(f"load average {load_average()} at the end")


def report(outcomes: list[Outcome], hello: HelloWorld) -> None:
    print(f"baseline: a hello-world request costs the server {hello.cpu_ms:.3f} ms of CPU")
    base = outcomes[0]
    rows = []
    for outcome in outcomes:
        figures = Summary.of(outcome.latencies_ms) if outcome.latencies_ms else None
        ms = outcome.server_ms()

        def share(name: str, outcome: Outcome = outcome) -> str:
            return f"{100 * outcome.cpu[name] / outcome.wall:.0f} %"

        rows.append(
            [
                f"serve --workers {outcome.workers}",
                str(len(outcome.latencies_ms)),
                f"{outcome.rate():.1f}",
                f"{outcome.rate() / base.rate():.2f}×" if base.rate() else "-",
                f"{figures.p50:.0f}" if figures else "-",
                f"{figures.p99:.0f}" if figures else "-",
                str(sum(outcome.failures.values())),
                share("server"),
                f"{ms:.2f}" if ms is not None else "-",
                f"{ms / hello.cpu_ms:.1f}×" if ms is not None else "-",
                share("load"),
                share("beside"),
                share("others"),
                str(outcome.codes_made),
            ]
        )
    headers = [
        "deployment",
        "logins",
        "logins/s",
        "vs 1st",
        "p50 ms",
        "p99 ms",
        "failed",
        "server CPU",
        "server ms/login",
        "hello-worlds",
        "load CPU",
        "beside CPU",
        "others CPU",
        "codes made",
    ]
    print(table(headers, rows))
    print(
        "  CPU over the measured seconds (100 % = one core; the machine has "
        f"{usable_cores()}): the server's (supervisor\n  and workers), per login and in "
        "hello-world requests; the load generators'; beside: the sandbox's,\n  PostgreSQL's "
        "and Redis's; others: the rest of the machine. The percentiles are over the completed"
        "\n  logins only; failed logins, by reason:"
    )
    if not any(outcome.failures for outcome in outcomes):
        print("    none")
    for outcome in outcomes:
        for why, count in sorted(outcome.failures.items()):
            print(f"    serve --workers {outcome.workers}: {why}: {count}")
    for outcome in outcomes[1:]:
        if not (base.rate() and outcome.rate()):
            print(f"goal (issue 17): ≥ {GOAL:g}× the logins a second of one worker: no logins")
            continue
        ratio = outcome.rate() / base.rate()
        verdict = "met" if ratio >= GOAL else f"MISSED by {GOAL - ratio:.2f}×"
        print(
            f"goal (issue 17): --workers {outcome.workers} ≥ {GOAL:g}× the logins a second of "
            f"--workers {base.workers}: {ratio:.2f}× → {verdict}"
        )
        mine, theirs = outcome.server_ms(), base.server_ms()
        if mine is not None and theirs is not None:
            print(
                f"  server CPU a login, --workers {outcome.workers} against "
                f"--workers {base.workers}: {mine / theirs:.2f}×"
            )
        ceiling(outcome, base)


def ceiling(outcome: Outcome, base: Outcome) -> None:
    """What the machine allows: with every core busy, the logins a second are at most the
    cores over the CPU a login costs everything on the machine (the server, the load, the
    sandbox, PostgreSQL, Redis and the rest), as this run measured it. When the processes
    beside the server cost a login about as much as the server does, two workers cannot give
    twice one worker's logins on two cores, however well they scale."""
    logins = len(outcome.latencies_ms)
    if not logins:
        return
    everything_ms = 1000 * sum(outcome.cpu.values()) / logins
    server_ms = 1000 * outcome.cpu["server"] / logins
    most = 1000 * usable_cores() / everything_ms
    needed = 1000 * usable_cores() / (GOAL * base.rate())
    print(
        f"  the machine's ceiling: {usable_cores()} cores over the CPU a login costs everything "
        f"on it ({everything_ms:.2f} ms,\n  of which the server {server_ms:.2f} ms) = "
        f"{most:.1f} logins/s = {most / base.rate():.2f}× --workers {base.workers}; "
        f"{GOAL:g}× needs everything\n  to cost at most {needed:.2f} ms a login"
    )


def main() -> None:
    run(benchmark(arguments()))


if __name__ == "__main__":
    main()
