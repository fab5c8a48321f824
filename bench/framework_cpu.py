"""Framework CPU: login API requests answered in-process, in hello-world requests of one run.

``server_cpu.py`` reads a real server's CPU from ``/proc``, which also holds uvicorn's, the
event loop's and the server's background work (the code pool's filler, timers) divided over
as many requests as the benchmark's client could send. This one isolates what the issue's
web-framework lever changes: the ASGI app alone, called with a request's ``scope`` as uvicorn
would call it, no client and no HTTP server, this process's CPU (``time.process_time``, all
threads: SQLite's too) over ``--requests`` calls, the best of ``--rounds``. Its unit is a
FastAPI hello-world app (``bench/_hello.py``'s) called the same way in the same run.

The app is ``minilogin dev``'s (SQLite file, in-process ephemeral store, its sandbox served
beside it), with one QR login created for the status and image requests. Each request of a
login that ``web/lane.py``'s lean lane answers is measured twice: as the app answers it (the
lane) and through FastAPI's whole stack, the lane taken out, as it was answered before (same
app, same services). A request that changes something (creation, scan, confirm, token) is
measured with a body the route reads in full and refuses in its own work (an unknown client,
scene, session, code), so that every call costs alike and no code is taken from the pool.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _hello import app as hello_app
from common import machine, parse, parser, run, say_if_quick, table
from fastapi import FastAPI
from starlette.types import ASGIApp, Message

from minilogin.app import create_app
from minilogin.config import SANDBOX_API_PATH, Settings
from minilogin.core.pkce import s256
from minilogin.sandbox.app import create_sandbox_app
from minilogin.storage.sql.migrate import upgrade_async
from minilogin.web.lane import LoginLane

PUBLIC = "http://minilogin.bench"
QUICK = {"requests": 50, "rounds": 2}
Headers = Sequence[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Call:
    label: str
    app: ASGIApp
    method: str
    path: str
    query: bytes = b""
    headers: Headers = ()
    body: bytes = b""


async def call(app: ASGIApp, request: Call) -> int:
    """One request as uvicorn hands it to the app; its status."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": request.query,
        "root_path": "",
        "headers": [(b"host", b"minilogin.bench"), *request.headers],
        "client": ("203.0.113.7", 50000),
        "server": ("minilogin.bench", 80),
        "state": {},
    }
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": request.body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def cpu_each(request: Call, n: int, rounds: int) -> tuple[float, int]:
    """Microseconds of CPU a call, the best of ``rounds`` rounds of ``n``; the status seen."""
    status = await call(request.app, request)
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(n):
            await call(request.app, request)
        best = min(best, (time.process_time() - started) / n * 1e6)
    return best, status


def without_lane(app: FastAPI) -> ASGIApp:
    """The same app through FastAPI's whole stack, every middleware but the lane."""
    with_lane = app.user_middleware
    app.user_middleware = [m for m in with_lane if m.cls is not LoginLane]
    try:
        whole = app.build_middleware_stack()
    finally:
        app.user_middleware = with_lane

    async def entry(scope: Any, receive: Any, send: Any) -> None:
        scope["app"] = app
        await whole(scope, receive, send)

    return entry


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--requests", type=int, default=2000, help="calls a round")
    p.add_argument("--rounds", type=int, default=5, help="rounds; the best is printed")
    return parse(p, QUICK)


async def benchmark(args: argparse.Namespace) -> None:
    print(f"framework_cpu: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}")
    print(f"settings: {args.requests} calls a round, best of {args.rounds} rounds")
    say_if_quick(args)
    print(flush=True)
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(public_url=PUBLIC, data_dir=Path(data), rate_limit_scale=1e6)
        settings = settings.against_sandbox(PUBLIC + SANDBOX_API_PATH)
        await upgrade_async(settings.database_url)
        wechat = create_sandbox_app(PUBLIC)
        app = create_app(
            settings, seed=True, sandbox=wechat, wechat_transport=httpx.ASGITransport(app=wechat)
        )
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=PUBLIC
            ) as http:
                created = await http.post(
                    "/pools/demo/api/qrcodes",
                    json={"client_id": "demo", "code_challenge": s256("v" * 43)},
                )
                created.raise_for_status()
                login = created.json()
            await asyncio.sleep(1)  # the pool's filler remakes the code the login took
            auth = [(b"authorization", f"Bearer {login['secret']}".encode())]
            origin = [(b"origin", PUBLIC.encode())]
            creation_path = "/pools/demo/api/qrcodes"
            status = f"{creation_path}/{login['id']}"
            token_path = "/pools/demo/oidc/token"
            # A long poll whose ``last`` already differs answers at once, through the wait.
            poll = b"wait=5&last=scanned"
            stack = without_lane(app)
            json_type = [(b"content-type", b"application/json")]
            form_type = [(b"content-type", b"application/x-www-form-urlencoded")]
            creation = json.dumps({"client_id": "nobody", "code_challenge": s256("v" * 43)})
            # A scene no code can carry: refused before WeChat is asked (``login/miniprogram.py``).
            scan = json.dumps({"scene": "%", "js_code": "x"})
            confirm = json.dumps({"session": "s" * 43, "phone_code": "x"})
            grant = b"grant_type=authorization_code&code=x&code_verifier=v&client_id=demo"
            requests = [
                ("status", "GET", status, b"", auth, b""),
                ("long poll", "GET", status, poll, auth, b""),
                ("code image", "GET", f"{status}/image.png", b"", [], b""),
                ("creation, unknown client (404)", "POST", creation_path, b"", json_type, creation),
                (
                    "scan, unknown scene (404)",
                    "POST",
                    "/api/miniprogram/scan",
                    b"",
                    json_type,
                    scan,
                ),
                (
                    "confirm, unknown session (404)",
                    "POST",
                    "/api/miniprogram/confirm",
                    b"",
                    json_type,
                    confirm,
                ),
                ("token, unknown code (400)", "POST", token_path, b"", form_type, grant),
            ]
            calls = []
            for label, method, path, query, headers, body in requests:
                content = body.encode() if isinstance(body, str) else body
                calls.append(Call(label, app, method, path, query, headers, content))
                calls.append(
                    Call(f"{label}, whole stack", stack, method, path, query, headers, content)
                )
            calls += [
                Call("status, origin (CORS)", app, "GET", status, headers=[*auth, *origin]),
                Call("discovery", app, "GET", "/pools/demo/.well-known/openid-configuration"),
                Call("JWKS", app, "GET", "/pools/demo/oidc/jwks"),
                Call("unknown path (404)", app, "GET", "/pools/demo/nowhere"),
            ]
            hello, _ = await cpu_each(Call("hello", hello_app, "GET", "/hello"), *counts(args))
            rows = []
            for request in calls:
                micros, answered = await cpu_each(request, *counts(args))
                rows.append(
                    [
                        request.label,
                        str(answered),
                        f"{micros:.1f}",
                        f"{micros / hello:.2f}×",
                    ]
                )
    print(f"baseline: a hello-world request costs {hello:.1f} µs of CPU in-process")
    print(table(["request", "status", "µs each", "hello-worlds"], rows))


def counts(args: argparse.Namespace) -> tuple[int, int]:
    return args.requests, args.rounds


def main() -> None:
    run(benchmark(arguments()))


if __name__ == "__main__":
    main()
