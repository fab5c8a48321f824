"""What the issue-6 benchmarks share (not a benchmark itself: ``run.py`` skips ``_`` files):
driving logins through the HTTP contract, a hand-written HTTP/1.1 connection light enough to
hold ten thousand of them from one process, reading a process's memory, the sandbox's
WeChat call counts, and real PostgreSQL and Redis servers (the ones the tests start).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import resource
import secrets
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
# The test suite's server helpers start PostgreSQL and Redis the same way here.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SANDBOX_APP_ID = "wx0000000000sandbox"


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's open-files limit towards ``wanted`` (child processes inherit it);
    the limit in force afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid: int) -> int:
    """Resident memory of process ``pid`` in KiB (``VmRSS`` of ``/proc/{pid}/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def verifier_and_challenge() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:300]}"
        )
    body: dict[str, Any] = response.json() if response.content else {}
    return body


async def sandbox_calls(http: httpx.AsyncClient, wechat: str) -> dict[str, int]:
    """The sandbox's WeChat API calls so far, by path (``GET /_sandbox/wechat/stats``)."""
    response = await http.get(f"{wechat}/_sandbox/wechat/stats")
    calls: dict[str, int] = expect(response, 200)["calls"]
    return calls


@dataclass(slots=True)
class Login:
    """One QR login as a benchmark drives it."""

    id: str
    secret: str
    verifier: str
    appid: str = ""
    scene: str = ""
    session: str = ""
    user: str = ""
    confirm_sent: float = 0.0
    known: float = 0.0

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


async def create(http: httpx.AsyncClient, issuer: str) -> Login:
    verifier, code_challenge = verifier_and_challenge()
    response = await http.post(
        f"{issuer}/api/qrcodes",
        json={
            "client_id": "demo",
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "scope": "openid phone",
        },
    )
    body = expect(response, 201)
    return Login(body["id"], body["secret"], verifier)


async def read_scene(http: httpx.AsyncClient, public: str, login: Login) -> None:
    """The scene the code shows, from the sandbox demo's helper (the holder of the secret may
    ask): what a phone would read from the PNG, without decoding one per login here."""
    response = await http.get(f"{public}/demo/api/phone-url/{login.id}", headers=login.auth)
    query = parse_qs(urlparse(expect(response, 200)["phone_url"]).query)
    login.appid, login.scene = query["appid"][0], query["scene"][0]


class Phone:
    """Simulated WeChat users: codes from the sandbox at ``wechat``, the mini program's calls
    to the instance at ``api``."""

    def __init__(self, http: httpx.AsyncClient, wechat: str) -> None:
        self.http = http
        self.wechat = wechat

    async def _code(self, kind: str, user: str) -> str:
        response = await self.http.post(
            f"{self.wechat}/_sandbox/wx/{kind}", json={"appid": SANDBOX_APP_ID, "user": user}
        )
        return str(expect(response, 200)["code"])

    async def scan(self, api: str, login: Login, user: str) -> None:
        js_code = await self._code("login", user)
        response = await self.http.post(
            f"{api}/api/miniprogram/scan", json={"scene": login.scene, "js_code": js_code}
        )
        login.session = str(expect(response, 200)["session"])
        login.user = user

    async def confirm(self, api: str, login: Login) -> None:
        phone_code = await self._code("phone_code", login.user)
        login.confirm_sent = time.perf_counter()
        response = await self.http.post(
            f"{api}/api/miniprogram/confirm",
            json={"session": login.session, "phone_code": phone_code},
        )
        if expect(response, 200).get("status") != "authorized":
            raise RuntimeError(f"{login.id}: confirm answered {response.text}")


async def exchange(http: httpx.AsyncClient, issuer: str, login: Login, code: str) -> None:
    response = await http.post(
        f"{issuer}/oidc/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": login.verifier,
            "client_id": "demo",
        },
    )
    if "id_token" not in expect(response, 200):
        raise RuntimeError(f"{login.id}: no id_token")


class RawHTTP:
    """One keep-alive HTTP/1.1 connection on asyncio streams. httpx costs a few hundred
    microseconds a request and tens of kilobytes a connection; a waiting browser here costs
    a socket and a coroutine, so the client's weight stays small beside the server's."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self.reader = reader
        self.writer = writer
        self.host = host

    @classmethod
    async def open(cls, base: str) -> RawHTTP:
        url = urlparse(base)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        return cls(reader, writer, f"{host}:{port}")

    def send(self, path: str, headers: dict[str, str]) -> None:
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def _head(self) -> tuple[int, dict[str, str]]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        return int(status_line.split()[1]), headers

    async def json(self) -> tuple[int, dict[str, Any]]:
        """The next response, whole (a JSON body with a Content-Length)."""
        status, headers = await self._head()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, json.loads(body) if body else {}

    async def events(self) -> AsyncIterator[tuple[str, str]]:
        """``(event, data)`` of a chunked ``text/event-stream`` response."""
        status, _ = await self._head()
        if status != 200:
            raise RuntimeError(f"the event stream answered {status}")
        buffer = b""
        event, data = "message", []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return
            buffer += chunk[:-2]
            while b"\n" in buffer:
                raw, buffer = buffer.split(b"\n", 1)
                line = raw.decode().rstrip("\r")
                if not line:
                    if data:
                        yield event, "\n".join(data)
                    event, data = "message", []
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))

    def close(self) -> None:
        self.writer.close()


async def fill_pool(
    http: httpx.AsyncClient, issuers: list[str], wechat: str, codes: int, timeout: float = 900
) -> float:
    """Start the code pool (one login on each instance) and wait until the sandbox has made
    ``codes`` codes; the seconds it took. Reports progress every half minute."""
    started = time.perf_counter()
    for issuer in issuers:
        await create(http, issuer)
    reported = started
    while True:
        made = (await sandbox_calls(http, wechat)).get("wxa/getwxacodeunlimit", 0)
        now = time.perf_counter()
        if made >= codes:
            return now - started
        if now - started > timeout:
            raise RuntimeError(f"the code pool reached {made} of {codes} codes in {timeout} s")
        if now - reported > 30:
            reported = now
            print(f"  … code pool: {made}/{codes} codes made", flush=True)
        await asyncio.sleep(0.5)
