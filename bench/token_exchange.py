"""Token exchange: the CPU of exchanging an authorization code in-process, now and as before.

The token endpoint's ``authorization_code`` grant (``oidc/grants/authorization_code.py``),
called in this process the way the route calls it (``web/oidc_ports.token_endpoint``) on
``minilogin dev``'s services (SQLite file, in-process ephemeral store): the client looked up,
the code checked and taken, an access token (ES256) and an ID token (RS256, the default)
signed, the refresh token added, what was issued remembered, the audit event queued. No
HTTP, and no QR login (the code ends none), so that the figure is the exchange's own.
``--people`` exchange at once, each ``--exchanges`` codes a round; every code is put in the
store before the clock starts. This process's CPU (``time.process_time``: every thread, SQLite
and the audit writer included) an exchange, in each of ``--rounds`` rounds, both ways in each:

- minilogin: the code as ``login/authorization.py`` writes it, carrying the claims its scope
  released, so that the exchange reads no user (the refresh token's insert checks that the
  user may still log in); tokens signed with ``cryptography`` directly (``oidc/keys.py``).
- baseline: the code without claims, as before: the exchange reads the user first; tokens
  signed through ``joserfc.jwt.encode``, as ``Signer.sign`` did before.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

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
from joserfc import jwt

from minilogin.config import Settings
from minilogin.core.claims import AMR_WECHAT_MP_QRCODE, user_claims
from minilogin.core.entities import User
from minilogin.core.grants import AuthorizationCode
from minilogin.core.pkce import s256
from minilogin.oidc.keys import ALGORITHM, Signer
from minilogin.seed import DEMO_CLIENT, DEMO_POOL, seed_demo
from minilogin.storage.sql import upgrade_async
from minilogin.web.oidc_ports import token_endpoint
from minilogin.wiring import Services, open_services

QUICK = {"exchanges": 20, "people": 2, "rounds": 1}
SCOPE = "openid profile phone"
VERIFIER = "v" * 43
WAYS = ("minilogin", "baseline")


def joserfc_sign(
    self: Signer, claims: Mapping[str, object], typ: str = "JWT", alg: str = ALGORITHM
) -> str:
    """``Signer.sign`` as it was: the header and a copy of the claims through joserfc."""
    kid, key = self._current[alg]
    return jwt.encode({"alg": alg, "kid": kid, "typ": typ}, dict(claims), key)


async def exchanges(svc: Services, people: list[User], way: str, count: int) -> float:
    """Milliseconds of this process's CPU an exchange, ``count`` a person, all at once."""
    issuer = f"{svc.settings.public_url}/pools/{DEMO_POOL}"
    codes: list[list[str]] = []
    for person in people:
        mine = []
        for _ in range(count):
            code = secrets.token_urlsafe(32)
            claims = user_claims(person, SCOPE) if way == "minilogin" else None
            grant = AuthorizationCode(
                pool=DEMO_POOL,
                client_id=DEMO_CLIENT,
                user_id=person.id,
                code_challenge=s256(VERIFIER),
                scope=SCOPE,
                auth_time=int(time.time()),
                amr=[AMR_WECHAT_MP_QRCODE],
                nonce="n-bench",
                claims=claims,
            )
            await svc.codes.put(code, grant, 600)
            mine.append(code)
        codes.append(mine)

    async def exchanges_of(mine: list[str]) -> None:
        for code in mine:
            form = {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": VERIFIER,
                "client_id": DEMO_CLIENT,
            }
            body = await token_endpoint(svc).exchange(issuer, DEMO_POOL, form, None, "192.0.2.1")
            assert body["id_token"], body

    signed_by = Signer.sign
    if way == "baseline":
        Signer.sign = joserfc_sign  # type: ignore[method-assign]
    try:
        started = time.process_time()
        await asyncio.gather(*(exchanges_of(mine) for mine in codes))
        spent = time.process_time() - started
    finally:
        Signer.sign = signed_by  # type: ignore[method-assign]
    return spent * 1e3 / (count * len(people))


async def measure(args: argparse.Namespace) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="minilogin-bench-token-") as folder:
        settings = Settings(
            data_dir=Path(folder),
            secret_key=secrets.token_urlsafe(32),
            wechat_app_id="wx-bench",
            wechat_app_secret="bench-secret",
        )
        await upgrade_async(settings.database_url)
        svc = await open_services(settings)
        try:
            await seed_demo(svc.pools, svc.applications, svc.identity_sources, settings)
            pool = await svc.pools.get_pool(DEMO_POOL)
            assert pool is not None
            people = [
                await svc.users.create_user(
                    User(
                        pool_id=pool.id,
                        phone=f"+861380013{n:04d}",
                        phone_verified=True,
                        nickname=f"person {n}",
                    )
                )
                for n in range(args.people)
            ]
            for way in WAYS:  # keys made and imported, statements compiled: not steady costs
                await exchanges(svc, people, way, 20)
            for _ in range(args.rounds):
                for way in WAYS:
                    figures[way].append(await exchanges(svc, people, way, args.exchanges))
        finally:
            await svc.close()
    return figures


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--exchanges", type=int, default=1000, help="codes a person exchanges a round")
    p.add_argument("--people", type=int, default=4, help="people exchanging at once")
    p.add_argument("--rounds", type=int, default=3, help="rounds, each measuring both ways")
    return parse(p, QUICK)


async def benchmark(args: argparse.Namespace) -> None:
    print(f"token_exchange: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}; load average {load_average()}")
    print(
        f"settings: {args.people} people at once, {args.exchanges} exchanges each a round, "
        f"{args.rounds} rounds, both ways in each; scope {SCOPE!r}; ID token RS256"
    )
    say_if_quick(args)
    print(flush=True)
    figures = await measure(args)
    baseline = figures["baseline"]
    rows = [
        [
            way,
            *(f"{ms:.3f}" for ms in values),
            round_ratios(values, baseline),
        ]
        for way, values in figures.items()
    ]
    rounds = [f"round {n + 1} ms" for n in range(args.rounds)]
    print("CPU an exchange (this process, every thread)")
    print(table(["way", *rounds, "vs baseline, each round"], rows))
    print(f"load average {load_average()} at the end")


def main() -> None:
    run(benchmark(arguments()))


if __name__ == "__main__":
    main()
