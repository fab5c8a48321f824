"""Logins per second: complete logins (create → scan → confirm → push → token) a second.

Three deployments, one after the other, each driven by ``--users`` simulated people at once
(closed loop: a person starts the next login when the last one has its tokens) for
``--seconds`` after a warm-up:

1. one instance, SQLite file and in-process ephemeral store (``minilogin dev`` defaults): the
   baseline;
2. one instance on PostgreSQL and Redis;
3. two instances on one PostgreSQL and one Redis, a login hopping between them at every
   step as a load balancer may send it: created on one, scanned on the other, confirmed on
   the first while the browser waits (long poll) on the second, exchanged on the first.

In each, WeChat is a separate sandbox process, as WeChat is outside every instance. The
PostgreSQL and Redis servers are started by this script (the test suite's helpers), tuned for
throwaway data (no fsync). Each person's login: ``POST /api/qrcodes``, the scene (the sandbox
demo's helper), ``wx.login`` + ``POST /api/miniprogram/scan``, a long poll
(``?wait=25&last=scanned``), the phone-number button + ``POST /api/miniprogram/confirm``, and
``POST /oidc/token``. The code pool is filled before measuring and the benchmark's quarantine
is 1 s, so the pool never runs dry. Everything, this client included, shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field

import httpx
from _drive import Phone, complete_login, fill_pool, pool_settings, reason, shared_stores
from common import (
    Server,
    Summary,
    against,
    cpu_seconds,
    machine,
    minilogin_dev,
    minilogin_dev_and_sandbox,
    minilogin_sandbox,
    parse,
    parser,
    run,
    say_if_quick,
    table,
)

QUICK = {"users": 2, "seconds": 2.0, "warmup": 0.5, "pool": 30}


@dataclass(frozen=True)
class Deployment:
    label: str
    instances: list[Server]
    wechat: str  # the WeChat sandbox's base URL


@dataclass
class Outcome:
    completed: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    instances_cpu: float = 0.0  # CPU seconds of the instances' processes
    client_cpu: float = 0.0
    wall: float = 0.0
    server_error: str = ""  # the last error an instance logged, when logins failed


async def drive(deployment: Deployment, users: int, seconds: float, warmup: float) -> Outcome:
    outcome = Outcome()
    limits = httpx.Limits(max_connections=4 * users + 8, keepalive_expiry=2.0)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        phone = Phone(http, deployment.wechat)
        started = time.perf_counter()
        measuring_from = started + warmup
        until = measuring_from + seconds

        hops = deployment.instances

        async def person(slot: int) -> None:
            n = slot
            while time.perf_counter() < until:
                begun = time.perf_counter()
                try:
                    first, second = hops[n % len(hops)], hops[(n + 1) % len(hops)]
                    await complete_login(http, phone, f"rate-{slot}", first, second)
                except Exception as error:
                    # Counted under its reason ("confirm 500"); the person starts another.
                    if begun >= measuring_from:
                        outcome.failures[reason(error)] += 1
                    continue
                finally:
                    n += users
                ended = time.perf_counter()
                if begun >= measuring_from and ended <= until:
                    outcome.completed += 1
                    outcome.latencies_ms.append((ended - begun) * 1000)

        pids = [instance.pid for instance in deployment.instances]
        instances_before = sum(map(cpu_seconds, pids))
        client_before = time.process_time()
        await asyncio.gather(*(person(slot) for slot in range(users)))
        outcome.instances_cpu = sum(map(cpu_seconds, pids)) - instances_before
        outcome.client_cpu = time.process_time() - client_before
    outcome.wall = time.perf_counter() - started
    if outcome.failures:
        for instance in deployment.instances:
            log = instance.log.read_text(errors="replace")
            if "Traceback" in log:
                outcome.server_error = log[log.rindex("Traceback") :][-3000:]
    return outcome


async def warm(deployment: Deployment, codes: int) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        issuers = [instance.issuer() for instance in deployment.instances]
        await fill_pool(http, issuers, deployment.wechat, codes)


def pool_env(codes: int) -> dict[str, str]:
    return {
        "MINILOGIN_CODE_POOL_QUARANTINE": "1",
        **pool_settings(codes),
    }


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--users", type=int, default=8, help="people logging in at once")
    p.add_argument("--seconds", type=float, default=20.0, help="measured seconds per deployment")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    p.add_argument("--pool", type=int, default=800, help="codes in the pool")
    return parse(p, QUICK)


async def benchmark(args: argparse.Namespace) -> None:
    print(f"logins_per_second: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}")
    print(
        f"settings: {args.users} people at once (closed loop), {args.seconds:g} s measured "
        f"after {args.warmup:g} s, a pool of {args.pool} codes"
    )
    say_if_quick(args)
    print(flush=True)
    results: list[tuple[str, Outcome]] = []

    with minilogin_dev_and_sandbox(**pool_env(args.pool)) as (server, wechat):
        deployment = Deployment("1 instance · SQLite + memory", [server], wechat.public)
        await warm(deployment, args.pool)
        results.append(
            (deployment.label, await drive(deployment, args.users, args.seconds, args.warmup))
        )

    with shared_stores() as shared, minilogin_sandbox() as wechat:
        for count in (1, 2):
            with ExitStack() as stack:
                env = shared.env(f"deployment{count}") | against(wechat) | pool_env(args.pool)
                first = stack.enter_context(minilogin_dev(**env))
                # Behind a load balancer every instance has the same public address.
                env["MINILOGIN_PUBLIC_URL"] = first.public
                instances = [first]
                if count == 2:
                    instances.append(stack.enter_context(minilogin_dev(**env)))
                label = f"{count} instance{'s' if count > 1 else ''} · PostgreSQL + Redis"
                deployment = Deployment(label, instances, wechat.public)
                await warm(deployment, args.pool)
                outcome = await drive(deployment, args.users, args.seconds, args.warmup)
                results.append((label, outcome))
    report(results, args.seconds)


def report(results: list[tuple[str, Outcome]], seconds: float) -> None:
    baseline = results[0][1].completed / seconds
    rows = []
    for label, outcome in results:
        rate = outcome.completed / seconds
        figures = Summary.of(outcome.latencies_ms) if outcome.latencies_ms else None
        rows.append(
            [
                label,
                str(outcome.completed),
                f"{rate:.1f}",
                f"{rate / baseline:.2f}×" if baseline else "-",
                f"{figures.p50:.0f}" if figures else "-",
                f"{figures.p99:.0f}" if figures else "-",
                str(sum(outcome.failures.values())),
                f"{100 * outcome.instances_cpu / outcome.wall:.0f} %",
                f"{100 * outcome.client_cpu / outcome.wall:.0f} %",
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
        "instances CPU",
        "client CPU",
    ]
    print(table(headers, rows))
    print("  the percentiles are over the completed logins only; failed logins, by reason:")
    if not any(outcome.failures for _, outcome in results):
        print("    none")
    for label, outcome in results:
        for failure, count in sorted(outcome.failures.items()):
            print(f"    {label}: {failure}: {count}")
        if outcome.server_error:
            print(f"  {label}: the last error an instance logged:\n{outcome.server_error}")
    verdict = "met" if baseline >= 500 else f"MISSED by {500 - baseline:.0f} logins/s"
    print(f"target: ≥ 500 complete logins/s on one instance: {baseline:.1f} → {verdict}")


def main() -> None:
    run(benchmark(arguments()))


if __name__ == "__main__":
    main()
