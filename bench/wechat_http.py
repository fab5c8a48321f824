"""WeChat client: the CPU of one call through each HTTP client, side by side, against the sandbox.

The server's WeChat calls through ``WeChatClient`` and the access-token cache, as minilogin
makes them: ``jscode2session`` (a scan), ``getuserphonenumber`` (a confirmation) and
``getwxacodeunlimit`` (a code, about 44 KB of JPEG), to the sandbox in a process of its own
over loopback HTTP. Each client answers ``minilogin.wechat.transport.WeChatHttp``:

- **httpx** (the baseline: minilogin's client before issue 17, and still the tests' for the
  in-process sandbox): ``HttpxTransport`` over httpx's network transport;
- **pyreqwest** (production): ``ReqwestTransport``;
- **aiohttp** and **aiosonic**, when installed (they are not minilogin's dependencies): thin
  adapters in this file, measured only to choose.

This process's CPU (every thread: pyreqwest's Rust runtime runs in one of its own) is read
around each batch of calls; the phone's codes are fetched before the batch, outside it. The
clients take turns, round after round, so that the machine's other load colours them alike.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from common import machine, minilogin_sandbox, parse, parser, run, say_if_quick, table

from minilogin.config import SANDBOX_APP_ID, SANDBOX_APP_SECRET
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.wechat.client import WeChatClient
from minilogin.wechat.token_cache import AccessTokenCache
from minilogin.wechat.transport import HttpxTransport, Reply, ReqwestTransport, WeChatHttp
from minilogin.wechat.types import MiniProgram

QUICK = {"calls": 10, "rounds": 1}
TIMEOUT = 5.0
CALLS = ("jscode2session", "getuserphonenumber", "getwxacodeunlimit")


class AiohttpTransport:
    """aiohttp's client session behind the same interface (measured only, not used)."""

    def __init__(self, aiohttp: Any) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))

    @property
    def timeout(self) -> float:
        return TIMEOUT

    async def get(self, url: str, params: Mapping[str, str] | None = None) -> Reply:
        async with self._session.get(url, params=params) as response:
            body = await response.read()
            return Reply(response.status, response.headers.get("content-type", ""), body)

    async def post_json(
        self, url: str, payload: Mapping[str, Any], params: Mapping[str, str] | None = None
    ) -> Reply:
        data = json.dumps(payload).encode()
        headers = {"content-type": "application/json"}
        async with self._session.post(url, params=params, data=data, headers=headers) as response:
            body = await response.read()
            return Reply(response.status, response.headers.get("content-type", ""), body)

    async def aclose(self) -> None:
        await self._session.close()


class AiosonicTransport:
    """aiosonic's client behind the same interface (measured only, not used)."""

    def __init__(self, aiosonic: Any) -> None:
        self._client = aiosonic.HTTPClient()

    @property
    def timeout(self) -> float:
        return TIMEOUT

    async def get(self, url: str, params: Mapping[str, str] | None = None) -> Reply:
        response = await self._client.get(url, params=params)
        body = await response.content()
        return Reply(response.status_code, response.headers.get("content-type", ""), body)

    async def post_json(
        self, url: str, payload: Mapping[str, Any], params: Mapping[str, str] | None = None
    ) -> Reply:
        data = json.dumps(payload).encode()
        headers = {"content-type": "application/json"}
        response = await self._client.post(url, params=params, data=data, headers=headers)
        body = await response.content()
        return Reply(response.status_code, response.headers.get("content-type", ""), body)

    async def aclose(self) -> None:
        await self._client.aclose()


def optional(module: str, build: Callable[[Any], WeChatHttp]) -> Callable[[], WeChatHttp] | None:
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    return lambda: build(found)


def transports() -> dict[str, Callable[[], WeChatHttp] | None]:
    return {
        "httpx (baseline)": lambda: HttpxTransport(httpx.AsyncClient(timeout=TIMEOUT)),
        "pyreqwest (production)": lambda: ReqwestTransport(TIMEOUT),
        "aiohttp": optional("aiohttp", AiohttpTransport),
        "aiosonic": optional("aiosonic", AiosonicTransport),
    }


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--calls", type=int, default=300, help="calls of each API per client a round")
    p.add_argument("--rounds", type=int, default=4, help="rounds of turns (after a warm-up)")
    return parse(p, QUICK)


async def phone_codes(control: httpx.AsyncClient, path: str, count: int) -> list[str]:
    body = {"appid": SANDBOX_APP_ID, "user": "alice"}
    codes = []
    for _ in range(count):
        answer = await control.post(path, json=body)
        answer.raise_for_status()
        codes.append(answer.json()["code"])
    return codes


async def one_round(
    client: WeChatClient, control: httpx.AsyncClient, calls: int, tag: str
) -> dict[str, float]:
    """The CPU seconds of ``calls`` calls of each API, one at a time."""
    program = MiniProgram(SANDBOX_APP_ID, SANDBOX_APP_SECRET)
    spent = {}
    login_codes = await phone_codes(control, "/_sandbox/wx/login", calls)
    started = time.process_time()
    for code in login_codes:
        await client.code_to_session(program, code)
    spent["jscode2session"] = time.process_time() - started
    phone = await phone_codes(control, "/_sandbox/wx/phone_code", calls)
    started = time.process_time()
    for code in phone:
        await client.get_phone_number(program, code)
    spent["getuserphonenumber"] = time.process_time() - started
    started = time.process_time()
    for index in range(calls):
        image = await client.get_unlimited_code(
            program, f"{tag}{index}", page=None, env_version="develop"
        )
        assert image.startswith(b"\xff\xd8\xff")
    spent["getwxacodeunlimit"] = time.process_time() - started
    return spent


async def measure(args: argparse.Namespace, public: str) -> dict[str, dict[str, float] | None]:
    base = f"{public}/_sandbox/wechat"
    found = transports()
    clients: dict[str, tuple[WeChatHttp, WeChatClient]] = {}
    for name, build in found.items():
        if build is not None:
            transport = build()
            tokens = AccessTokenCache(MemoryStore(), transport, base)
            clients[name] = (transport, WeChatClient(transport, base, tokens))
    totals: dict[str, dict[str, float]] = {name: dict.fromkeys(CALLS, 0.0) for name in clients}
    async with httpx.AsyncClient(base_url=public, timeout=60) as control:
        options = await control.put("/_sandbox/wechat/options", json={"codes_per_minute": 10**6})
        options.raise_for_status()
        for round_number in range(args.rounds + 1):
            for number, (name, (_, client)) in enumerate(clients.items()):
                spent = await one_round(client, control, args.calls, f"r{round_number}c{number}x")
                if round_number == 0:
                    continue  # connections, tokens and imports: not the steady cost
                for call, seconds in spent.items():
                    totals[name][call] += seconds
    for transport, _ in clients.values():
        await transport.aclose()
    count = args.calls * args.rounds
    result: dict[str, dict[str, float] | None] = dict.fromkeys(found)
    for name, spent in totals.items():
        result[name] = {call: seconds / count * 1000 for call, seconds in spent.items()}
    return result


def main() -> None:
    args = arguments()
    print(f"wechat_http: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}")
    print(f"settings: {args.calls} calls of each API per client a round, {args.rounds} rounds")
    say_if_quick(args)
    print(flush=True)
    with minilogin_sandbox() as sandbox:
        figures = run(measure(args, sandbox.public))
    baseline = figures["httpx (baseline)"]
    assert baseline is not None
    rows = []
    for name, ms in figures.items():
        if ms is None:
            rows.append([name, "not installed", "", "", "", ""])
            continue
        login = ms["jscode2session"] + ms["getuserphonenumber"]
        rows.append(
            [
                name,
                f"{ms['jscode2session']:.3f}",
                f"{ms['getuserphonenumber']:.3f}",
                f"{ms['getwxacodeunlimit']:.3f}",
                f"{login:.3f}",
                f"{login / (baseline['jscode2session'] + baseline['getuserphonenumber']):.2f}×"
                f" / {ms['getwxacodeunlimit'] / baseline['getwxacodeunlimit']:.2f}×",
            ]
        )
    print("client CPU a call (this process, every thread), ms")
    headers = ["client", *CALLS, "a login's two", "vs httpx: login / code"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
