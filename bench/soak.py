"""Soak: the server's memory under sustained complete logins, sampled until it levels off.

One instance on the defaults (SQLite file, in-process ephemeral store), WeChat a sandbox in a
process of its own (so that its memory is not the server's), driven by ``--users`` people at
once in a closed loop (create → scene → scan → long poll → confirm → token, as
``logins_per_second`` drives it) for ``--minutes``. Every ``--sample`` seconds it records the
server's resident memory (``VmRSS``), the logins completed and the codes the server had made.

The code pool is meant to grow with the load: its target is 1.5 times the leases of the last
lease lifetime (the code's expiry, plus its minute after authorization, plus the quarantine,
at least 300 s: about 13 minutes on the defaults), at most ``MINILOGIN_CODE_POOL_MAX_SIZE``
codes, each some 8 KiB of composed image in the in-process store. So on the defaults the
server's memory grows by a code's worth per login for the first quarter of an hour, then
levels off. ``--pool-max`` (default 400) and ``--quarantine`` (default 60 s) make the pool
reach its bound in the first minutes, so that the rest of the run shows whether anything else
grows.

The baseline is the same run's first sample, taken once the warm-up's logins are done: each
later sample is printed beside it as a ratio, and the memory each later stretch added is given
per thousand logins. Memory that levels off adds nearly nothing per login in the second half
of the run, whatever it added in the first (while the code pool grows to the size the load
needs); memory that leaks adds the same in both halves.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field

import httpx
from _drive import Phone, complete_login, reason, rss_kib, sandbox_calls
from common import (
    Server,
    machine,
    minilogin_dev_and_sandbox,
    parse,
    parser,
    run,
    say_if_quick,
    table,
)

QUICK = {
    "users": 2,
    "minutes": 0.1,
    "sample": 1.0,
    "warmup": 1.0,
    "quarantine": 1.0,
    "pool_max": 10,
}


@dataclass(frozen=True, slots=True)
class Sample:
    seconds: float  # since the baseline
    logins: int  # completed since the start
    rss_kib: int
    codes: int  # getwxacodeunlimit calls the sandbox answered


@dataclass
class Progress:
    completed: int = 0
    failures: dict[str, int] = field(default_factory=dict)


async def soak(
    server: Server, wechat: str, args: argparse.Namespace
) -> tuple[list[Sample], Progress]:
    done = Progress()
    samples: list[Sample] = []
    limits = httpx.Limits(max_connections=4 * args.users + 8, keepalive_expiry=2.0)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        phone = Phone(http, wechat)
        started = time.monotonic()
        until = started + args.warmup + args.minutes * 60

        async def person(slot: int) -> None:
            while time.monotonic() < until:
                try:
                    await complete_login(http, phone, f"soak-{slot}", server)
                except Exception as error:
                    # Counted under its reason ("confirm 503"); the person starts another.
                    why = reason(error)
                    done.failures[why] = done.failures.get(why, 0) + 1
                    continue
                done.completed += 1

        people = [asyncio.create_task(person(slot)) for slot in range(args.users)]
        await asyncio.sleep(args.warmup)
        baseline_at = time.monotonic()
        while True:
            calls = await sandbox_calls(http, wechat)
            samples.append(
                Sample(
                    time.monotonic() - baseline_at,
                    done.completed,
                    rss_kib(server.pid),
                    calls.get("wxa/getwxacodeunlimit", 0),
                )
            )
            if time.monotonic() >= until:
                break
            await asyncio.sleep(min(args.sample, max(until - time.monotonic(), 0.0)))
        await asyncio.gather(*people)
    return samples, done


def kib_per_thousand(first: Sample, last: Sample) -> str:
    logins = last.logins - first.logins
    if logins <= 0:
        return "-"
    return f"{(last.rss_kib - first.rss_kib) * 1000 / logins:.0f}"


def report(samples: list[Sample], done: Progress) -> None:
    base = samples[0]
    rows = [
        [
            f"{sample.seconds:.0f}",
            str(sample.logins),
            str(sample.codes),
            f"{sample.rss_kib / 1024:.1f}",
            f"{sample.rss_kib / base.rss_kib:.3f}×",
            kib_per_thousand(previous, sample),
        ]
        for previous, sample in zip([base, *samples], samples, strict=False)
    ]
    print(
        table(
            ["s", "logins", "codes made", "RSS MiB", "vs baseline", "KiB per 1000 logins"],
            rows,
        )
    )
    middle = samples[len(samples) // 2]
    last = samples[-1]
    print(f"baseline: the first sample, {base.rss_kib / 1024:.1f} MiB after {base.logins} logins")
    print(
        f"KiB added per 1000 logins: first half {kib_per_thousand(base, middle)}, "
        f"second half {kib_per_thousand(middle, last)}"
    )
    print(f"logins completed: {last.logins}; failed, by reason: {done.failures or 'none'}")


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--users", type=int, default=8, help="people logging in at once")
    p.add_argument("--minutes", type=float, default=10.0, help="how long the load lasts")
    p.add_argument("--sample", type=float, default=30.0, help="seconds between memory samples")
    p.add_argument("--warmup", type=float, default=20.0, help="seconds before the baseline")
    p.add_argument(
        "--quarantine", type=float, default=60.0, help="the code pool's quarantine, seconds"
    )
    p.add_argument("--pool-max", type=int, default=400, help="the code pool's largest size")
    return parse(p, QUICK)


async def benchmark(args: argparse.Namespace) -> None:
    print(f"soak: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}")
    print(
        f"settings: {args.users} people at once (closed loop) for {args.minutes:g} min after "
        f"{args.warmup:g} s, memory sampled every {args.sample:g} s, "
        f"code pool quarantine {args.quarantine:g} s and at most {args.pool_max} codes"
    )
    say_if_quick(args)
    print(flush=True)
    env = {
        "MINILOGIN_CODE_POOL_QUARANTINE": f"{args.quarantine:g}",
        "MINILOGIN_CODE_POOL_MAX_SIZE": str(args.pool_max),
    }
    with minilogin_dev_and_sandbox(**env) as (server, wechat):
        samples, done = await soak(server, wechat.public, args)
    report(samples, done)


def main() -> None:
    run(benchmark(arguments()))


if __name__ == "__main__":
    main()
