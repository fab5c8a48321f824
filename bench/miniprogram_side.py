"""The mini program's side of a login: the CPU of its stores' work in-process, now and as before.

Three pieces of what a scan and a confirm (and the login's end) make the server do, each
called in this process on ``minilogin dev``'s services (SQLite file, in-process ephemeral
store), both ways in each of ``--rounds`` rounds, as this process's CPU
(``time.process_time``: every thread, SQLite included) a login:

- **QR login**: the three transitions of a login (scanned, authorized, consumed) as
  ``login/miniprogram.py``, ``login/authorization.py`` and the code's redemption make them,
  each read as they read it (by its scene, then by its id; the redemption reads nothing
  first). minilogin: ``QRLogins`` compares a caller's copy as the text it was read from and
  keeps what it writes decoded. Baseline: ``QRLogins`` as before, which serialized the
  caller's copy again to compare it and decoded anew the text it had just written.
- **access token**: the token a ``getPhoneNumber`` call takes, already cached.
  minilogin: held in memory, parsed, until it is due for a refresh. Baseline: read from the
  ephemeral store and parsed at every call, as before.
- **image deleted**: the code image of an ended login. minilogin: the filler deletes those
  of ``--batch`` logins in one transaction. Baseline: one transaction each, in the login's
  last request, as before.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
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

from minilogin.config import Settings
from minilogin.core import qrlogin as machine_of
from minilogin.core.entities import CodeImage
from minilogin.core.qrlogin import QRLogin, RequestContext, Scanner
from minilogin.storage.ephemeral import keys, records
from minilogin.storage.ephemeral.records import QRLogins
from minilogin.storage.sql import upgrade_async
from minilogin.wechat.token_cache import CachedToken, token_key
from minilogin.wechat.types import MiniProgram
from minilogin.wiring import Services, open_services

QUICK = {"logins": 20, "batch": 10, "rounds": 1}
WAYS = ("minilogin", "baseline")
SCANNER = Scanner(app_id="wx-bench", openid="o-bench", nickname="bench")
#: A JPEG's size as WeChat's codes come (tens of KB).
IMAGE = CodeImage("image/jpeg", b"\xff\xd8\xff" + bytes(30_000))


class QRLoginsAsBefore(QRLogins):
    """``QRLogins`` before the caller's copy was compared as its text: the copy serialized
    again, and only decoded texts kept decoded (not written ones)."""

    def _text_of(self, login: QRLogin) -> str:
        return records._qrlogin_to_json(login)

    def _keep(self, text: str, login: QRLogin) -> None:
        if len(self._decoded) >= records.DECODED:
            del self._decoded[next(iter(self._decoded))]
        self._decoded[text] = login

    async def _write(
        self, key: str, text: str, change: Callable[[QRLogin], QRLogin], trusted: bool
    ) -> QRLogin | None:
        before = self._decode(text)
        try:
            after = change(before)
        except Exception:
            if trusted:
                raise
            return None
        if after == before:
            return after if trusted else None
        new_text = records._qrlogin_to_json(after)
        if not await self._store.compare_and_set(key, text, new_text, self._ttl(after)):
            return None
        if self._observe is not None and after.status is not before.status:
            self._observe(after, after.status.value)
        await self._after_change(after.id, new_text, after)
        return after


def new_login(now: float) -> QRLogin:
    scene = secrets.token_urlsafe(12)
    return QRLogin(
        id=f"qrl_{secrets.token_urlsafe(16)}",
        pool="demo",
        pool_id="pool-bench",
        client_id="demo",
        connection="wechat-mp-qrcode",
        app_id=SCANNER.app_id,
        scene=scene,
        secret_hash="0" * 64,
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        created_at=now,
        expires_at=now + 300,
        scope="openid profile phone",
        nonce="n-bench",
        request=RequestContext(browser="Chrome 120", ip="203.0.113.7", location="上海"),
        updated_at=now,
    )


async def cpu_each(count: int, work: Callable[[int], Awaitable[None]]) -> float:
    """Microseconds of this process's CPU a call of ``work``, ``count`` calls."""
    started = time.process_time()
    for n in range(count):
        await work(n)
    return (time.process_time() - started) * 1e6 / count


async def qr_logins(svc: Services, way: str, count: int) -> float:
    qrlogins = (QRLogins if way == "minilogin" else QRLoginsAsBefore)(svc.ephemeral, svc.clock)
    logins = [new_login(svc.clock()) for _ in range(count)]
    for login in logins:
        assert await qrlogins.create(login)

    async def one(n: int) -> None:
        login = logins[n]
        now = svc.clock()
        found = await qrlogins.find_by_scene(login.scene)
        assert found is not None
        await qrlogins.update(login.id, lambda cur: machine_of.scan(cur, now, SCANNER), found)
        current = await qrlogins.get(login.id)
        assert current is not None

        def authorize(cur: QRLogin) -> QRLogin:
            return machine_of.authorize(replace(cur, scanner=SCANNER), now, "usr_bench", "code")

        await qrlogins.update(login.id, authorize, current)
        await qrlogins.update(login.id, lambda cur: machine_of.consume(cur, now))

    return await cpu_each(count, one)


async def access_tokens(svc: Services, way: str, count: int, entry: CachedToken) -> float:
    app = MiniProgram(svc.settings.wechat_app_id, svc.settings.wechat_app_secret)

    async def held(_: int) -> None:
        assert await svc.tokens.get(app) == entry.token

    async def read(_: int) -> None:
        # ``AccessTokenCache.get`` as it was: the key's fingerprint hashed, the store read and
        # the entry parsed at every call.
        secret = f"{app.app_id}\n{app.app_secret}".encode()
        name = f"{app.app_id}:{hashlib.sha256(secret).hexdigest()[:16]}"
        cached = CachedToken.load(await svc.ephemeral.get(keys.wechat_token(name)))
        assert cached is not None
        assert time.time() < cached.refresh_at
        assert cached.token == entry.token

    return await cpu_each(count, held if way == "minilogin" else read)


async def images_deleted(svc: Services, way: str, count: int, batch: int) -> float:
    app_id = SCANNER.app_id
    until = datetime.now(UTC) + timedelta(hours=1)
    scenes = [secrets.token_urlsafe(12) for _ in range(count)]
    await svc.code_images.put_code_images([(app_id, scene, IMAGE, until) for scene in scenes])
    started = time.process_time()
    if way == "minilogin":
        for start in range(0, count, batch):
            await svc.code_images.delete_code_images(app_id, scenes[start : start + batch])
    else:
        for scene in scenes:
            await svc.code_images.delete_code_images(app_id, [scene])
    spent = time.process_time() - started
    assert await svc.code_images.get_code_image(app_id, scenes[-1]) is None
    return spent * 1e6 / count


async def measure(args: argparse.Namespace) -> dict[str, dict[str, list[float]]]:
    pieces = ("QR login", "access token", "image deleted")
    figures: dict[str, dict[str, list[float]]] = {
        piece: {way: [] for way in WAYS} for piece in pieces
    }
    with tempfile.TemporaryDirectory(prefix="minilogin-bench-miniprogram-") as folder:
        settings = Settings(
            data_dir=Path(folder),
            secret_key=secrets.token_urlsafe(32),
            wechat_app_id="wx-bench",
            wechat_app_secret="bench-secret",
        )
        await upgrade_async(settings.database_url)
        svc = await open_services(settings)
        try:
            # The platform's token, as the first getPhoneNumber would have left it.
            app = MiniProgram(settings.wechat_app_id, settings.wechat_app_secret)
            now = time.time()
            token = CachedToken(secrets.token_urlsafe(32), now + 7200, now + 6900)
            await svc.ephemeral.set(token_key(app), token.dump(), 7200)
            # The first round warms up (statements compiled, caches filled): not steady costs.
            for kept, rounds, count in ((False, 1, 20), (True, args.rounds, args.logins)):
                for _ in range(rounds):
                    for way in WAYS:
                        results = (
                            await qr_logins(svc, way, count),
                            await access_tokens(svc, way, count, token),
                            await images_deleted(svc, way, count, args.batch),
                        )
                        if kept:
                            for piece, value in zip(pieces, results, strict=True):
                                figures[piece][way].append(value)
        finally:
            await svc.close()
    return figures


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--logins", type=int, default=2000, help="logins a round, each way")
    p.add_argument("--batch", type=int, default=50, help="images the filler deletes at once")
    p.add_argument("--rounds", type=int, default=3, help="rounds, each measuring both ways")
    return parse(p, QUICK)


async def benchmark(args: argparse.Namespace) -> None:
    print(f"miniprogram_side: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}; load average {load_average()}")
    print(
        f"settings: {args.logins} logins a round, each way; images deleted {args.batch} at once "
        f"(minilogin) or one at a time (baseline); {args.rounds} rounds, both ways in each"
    )
    say_if_quick(args)
    print(flush=True)
    figures = await measure(args)
    rows = []
    for piece, ways in figures.items():
        baseline = ways["baseline"]
        for way, values in ways.items():
            rows.append(
                [f"{piece}, {way}", *(f"{us:.1f}" for us in values), round_ratios(values, baseline)]
            )
    rounds = [f"round {n + 1} µs" for n in range(args.rounds)]
    print("CPU a login (this process, every thread)")
    print(table(["piece, way", *rounds, "vs baseline, each round"], rows))
    print(f"load average {load_average()} at the end")


def main() -> None:
    run(benchmark(arguments()))


if __name__ == "__main__":
    main()
