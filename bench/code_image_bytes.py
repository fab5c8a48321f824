"""Code pool storage: bytes each pooled code costs in Redis and in the database.

The code pool keeps, per code, a few keys in the ephemeral store (Redis) and the code's image
in the durable store's ``code_images`` table (SQLite here). Before, the pool kept each image in
Redis itself, re-encoded as a PNG and base64-encoded, for days: that is the baseline, computed
in the same run from the very images this run pooled and written to the same Redis server.

For each kind of code, a pool of ``--codes`` codes is filled through the real pool (its filler,
the WeChat sandbox behind it, over HTTP in process), then measured:

- **Redis, now**: ``MEMORY USAGE`` of every key of the pool, divided by the codes;
- **database, now**: the images' bytes (``length(image)``) and the growth of the SQLite
  database file while the pool filled (after a checkpoint);
- **Redis, before**: ``MEMORY USAGE`` of one key per code holding what the old pool stored:
  ``base64(PNG)``, the PNG being WeChat's bytes when they were a PNG and no logo was composed,
  else the code's pixels re-encoded as a PNG (as the old ``compose_code`` did).

Kinds: the sandbox's code as it comes (a hard-edged black-and-white PNG QR code), the same
with a logo composed in, and a stand-in for WeChat's own codes, which are JPEG: the sandbox's
code drawn with soft edges and sent as a JPEG (quality 85) by this script's transport, with
a logo. The stand-in is not a real WeChat code; it shows what the old PNG re-encoding did to
a soft-edged JPEG input.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from common import free_port, machine, parser, run, table
from PIL import Image, ImageFilter
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from minilogin.config import SANDBOX_API_PATH, Settings
from minilogin.sandbox.app import create_sandbox_app
from minilogin.seed import DEMO_CONNECTION, DEMO_POOL, seed_demo
from minilogin.storage.sql.migrate import upgrade_async
from minilogin.wiring import Services, open_services

QUICK = {"codes": 5}
KINDS = ("sandbox PNG", "sandbox PNG + logo", "JPEG stand-in + logo")


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway ``redis-server`` without persistence; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is missing: run scripts/install-system-deps.sh")
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as folder:
        port = free_port()
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder]
        process = subprocess.Popen(
            [*args, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while (
                subprocess.run(
                    ["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False
                ).stdout.strip()
                != b"PONG"
            ):
                if time.monotonic() > deadline:
                    raise SystemExit("redis-server did not start")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(10)


class JpegCodes(httpx.AsyncBaseTransport):
    """The sandbox behind it, but its codes turned into soft-edged JPEGs, as WeChat's are."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if not request.url.path.endswith("/wxa/getwxacodeunlimit"):
            return response
        body = await response.aread()
        if not body.startswith(b"\x89PNG"):
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        soft = Image.open(io.BytesIO(body)).convert("RGB").filter(ImageFilter.GaussianBlur(1.2))
        out = io.BytesIO()
        soft.save(out, format="JPEG", quality=85)
        return httpx.Response(200, headers={"Content-Type": "image/jpeg"}, content=out.getvalue())


def logo() -> bytes:
    """A logo with a gradient, as uploaded logos have, not a flat colour."""
    image = Image.linear_gradient("L").resize((256, 256)).convert("RGB")
    image = Image.merge(
        "RGB", (image.getchannel(0), image.rotate(90).getchannel(0), image.getchannel(0))
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def old_encoding(image: bytes, composed: bool) -> str:
    """What the old pool kept in Redis for a code: base64 of a PNG."""
    if image.startswith(b"\x89PNG") and not composed:
        return base64.b64encode(image).decode()
    out = io.BytesIO()
    Image.open(io.BytesIO(image)).save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode()


@dataclass(frozen=True, slots=True)
class Measured:
    codes: int
    redis_now: float
    image_bytes: float
    sqlite_growth: float
    redis_before: float


async def redis_bytes(client: Redis, pattern: str) -> tuple[int, int]:
    """The keys matching ``pattern`` and their ``MEMORY USAGE`` in all."""
    keys, total = 0, 0
    async for key in client.scan_iter(match=pattern, count=1000):
        keys += 1
        total += int(await client.memory_usage(key, samples=0) or 0)
    return keys, total


async def fill(services: Services, pool_id: str, codes: int) -> None:
    """The pool filled to ``codes`` by its filler; the one code a first login made on demand
    (so that the filler knows the pool is in use) is deleted, so only pooled codes count."""
    pool = services.codepool
    source = await services.durable.get_identity_source(pool_id, DEMO_CONNECTION)
    assert source is not None
    lent = await pool.lease(source, "qrl_bench")
    while True:
        due = await pool.refill()
        if await pool.size(source) >= codes:
            break
        if due is None:
            raise SystemExit(f"the pool stopped at {await pool.size(source)} codes")
        await asyncio.sleep(max(0.0, due - time.time()))
    await services.durable.delete_code_images(services.mini_program(source).app_id, [lent])


async def measure_kind(kind: str, codes: int, redis_url: str) -> Measured:
    with tempfile.TemporaryDirectory(prefix="bench-codes-") as folder:
        prefix = f"bench-{kind.replace(' ', '-')}:"
        public = "http://minilogin.bench"
        settings = Settings(
            public_url=public,
            data_dir=Path(folder),
            redis_url=redis_url,
            redis_prefix=prefix,
            code_pool_min_size=codes,
            code_pool_max_size=max(codes, 1),
            code_pool_fill_rate=1000,
            code_pool_budget_per_minute=5000,
        ).against_sandbox(public + SANDBOX_API_PATH)
        await upgrade_async(settings.database_url)
        # The WeChat sandbox, reached in process through the client's transport.
        sandbox: httpx.AsyncBaseTransport = httpx.ASGITransport(app=create_sandbox_app(public))
        if kind.startswith("JPEG"):
            sandbox = JpegCodes(sandbox)
        services = await open_services(settings, sandbox)
        await services.codepool.close()  # filled by hand below, to exactly ``codes``
        try:
            await seed_demo(services.durable, settings)
            pool = await services.durable.get_pool(DEMO_POOL)
            assert pool is not None
            if "logo" in kind:
                await services.durable.set_identity_source_logo(pool.id, DEMO_CONNECTION, logo())
            before_file = database_size(Path(folder))
            await fill(services, pool.id, codes)
            after_file = database_size(Path(folder))
            client = Redis.from_url(redis_url)
            try:
                keys_now = await redis_bytes(client, f"{prefix}codepool:*")
                rows = await images(settings.database_url)
                for scene, image in rows:
                    key = f"{prefix}before:codepool:image:{scene}"
                    await client.set(key, old_encoding(image, "logo" in kind))
                keys_before = await redis_bytes(client, f"{prefix}before:*")
            finally:
                await client.aclose()
        finally:
            await services.close()
    stored = len(rows)
    return Measured(
        codes=stored,
        redis_now=keys_now[1] / stored,
        image_bytes=sum(len(image) for _, image in rows) / stored,
        sqlite_growth=(after_file - before_file) / stored,
        redis_before=keys_before[1] / stored,
    )


def database_size(folder: Path) -> int:
    """The SQLite database file's bytes, once its write-ahead log is written back into it
    (the log itself grows by whole pages per transaction and is reset at checkpoints)."""
    database = folder / "minilogin.db"
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return database.stat().st_size


async def images(database_url: str) -> list[tuple[str, bytes]]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT scene, image FROM code_images"))
            return [(str(scene), bytes(image)) for scene, image in result]
    finally:
        await engine.dispose()


def arguments() -> argparse.Namespace:
    args = parser(__doc__)
    args.add_argument("--codes", type=int, default=300, help="codes pooled per kind")
    parsed = args.parse_args()
    if parsed.quick:
        parsed.codes = QUICK["codes"]
    if parsed.codes < 1:
        args.error("--codes must be at least 1")
    return parsed


async def benchmark(args: argparse.Namespace) -> None:
    print(f"code_image_bytes: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}")
    print(f"settings: {args.codes} codes pooled per kind, width 430, Redis and SQLite")
    print(flush=True)
    rows: list[list[Any]] = []
    with redis_server() as redis_url:
        for kind in KINDS:
            m = await measure_kind(kind, args.codes, redis_url)
            now = m.redis_now
            rows.append(
                [
                    kind,
                    str(m.codes),
                    f"{m.redis_before:,.0f}",
                    f"{now:,.0f}",
                    f"{m.image_bytes:,.0f}",
                    f"{m.sqlite_growth:,.0f}",
                    f"{m.redis_before / now:,.0f}×",
                    f"{m.redis_before / (now + m.image_bytes):.1f}×",
                ]
            )
    print("Bytes per pooled code")
    headers = ["kind", "codes", "before: Redis", "now: Redis", "now: image", "SQLite growth"]
    print(table([*headers, "Redis before/now", "all before/now"], rows))
    print("  before: base64(PNG) in Redis, as the old pool kept it; now: the pool's Redis keys,")
    print("  and the image (WeChat's bytes, or composed in their format) in the code_images table")
    print("  all before/now: the old Redis bytes over the new Redis bytes plus the image bytes")


def main() -> None:
    run(benchmark(arguments()))


if __name__ == "__main__":
    main()
