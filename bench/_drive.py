"""What the issue-6 benchmarks share (not a benchmark itself: ``run.py`` skips ``_`` files):
driving logins through the HTTP contract, a hand-written HTTP/1.1 connection light enough to
hold ten thousand of them from one process, reading a process's memory and limits, the
sandbox's WeChat call counts, timestamped progress lines, and real PostgreSQL and Redis
servers (the ones the tests start).

A step of a login that fails (an unexpected answer, no answer in time, a broken connection)
raises ``StepFailed``, whose ``reason`` (``"confirm 500"``, ``"scan timeout"``) is what the
benchmarks count: under load some steps fail, and a benchmark reports how many and why
rather than stopping at the first.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import json
import resource
import secrets
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import redis
import zxingcpp
from common import Server, cpu_seconds, hello_world
from PIL import Image

from minilogin.codepool import FILLER_SHARE

ROOT = Path(__file__).resolve().parent.parent
# The test suite's server helpers start PostgreSQL and Redis the same way here.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.postgres_server import PostgresServer, postgres_server  # noqa: E402
from tests.support.redis_server import RedisServer, redis_server  # noqa: E402

SANDBOX_APP_ID = "wx0000000000sandbox"
#: WeChat's limit on code calls a minute, the most a server's budget may be.
BUDGET_PER_MINUTE = 5000
#: The filler's fastest pace, codes a second: its share of that budget.
FASTEST_FILL = BUDGET_PER_MINUTE * FILLER_SHARE / 60


def pool_settings(codes: int) -> dict[str, str]:
    """Server settings for a code pool of ``codes``, filled before measuring as fast as WeChat
    allows: the whole budget, and the filler's pace (which otherwise keeps to its default
    while an operator prefills) at its share of it."""
    return {
        "MINILOGIN_CODE_POOL_MIN_SIZE": str(codes),
        "MINILOGIN_CODE_POOL_MAX_SIZE": str(codes),
        "MINILOGIN_CODE_POOL_BUDGET_PER_MINUTE": str(BUDGET_PER_MINUTE),
        "MINILOGIN_CODE_POOL_FILL_RATE": f"{FASTEST_FILL:g}",
    }


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's open-files limit to ``wanted`` (the processes it starts inherit
    it), the hard limit too when this process may (root, or ``CAP_SYS_RESOURCE``); the soft
    limit in force afterwards. The limit is per process: a client holding ten thousand
    browsers needs ten thousand descriptors, and so does the server holding their sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    if hard != resource.RLIM_INFINITY and hard < wanted:
        # Not allowed to raise the hard limit: the soft one goes as far as the hard allows.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_files_limit(pid: int) -> int:
    """The soft open-files limit of process ``pid`` (``/proc/{pid}/limits``): to check that
    a server started by a benchmark got the limit the benchmark raised."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft = line.split()[3]
            return resource.RLIM_INFINITY if soft == "unlimited" else int(soft)
    raise RuntimeError(f"no open-files limit for process {pid}")


_STARTED = time.monotonic()


def progress(message: str) -> None:
    """A timestamped line saying what a long run is doing, so that a slow one shows where its
    time goes: the wall clock and the seconds since this process started."""
    elapsed = time.monotonic() - _STARTED
    print(f"  [{datetime.now():%H:%M:%S} +{elapsed:5.0f} s] {message}", flush=True)


def rss_kib(pid: int) -> int:
    """Resident memory of process ``pid`` in KiB (``VmRSS`` of ``/proc/{pid}/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def logged_exceptions(log: Path) -> Counter[str]:
    """The exceptions a server logged with a traceback (its 500s), counted by the line that
    ends the traceback, type and message; a chain counts once, as its last exception."""
    counts: Counter[str] = Counter()
    lines = log.read_text(errors="replace").splitlines()
    for start, line in enumerate(lines):
        if not line.startswith("Traceback (most recent call last):"):
            continue
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace()),
            None,
        )
        if end is None:
            continue
        after = next((text for text in lines[end + 1 :] if text.strip()), "")
        if not after.startswith(("During handling of the above", "The above exception")):
            counts[lines[end][:160]] += 1
    return counts


def verifier_and_challenge() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class StepFailed(RuntimeError):
    """A step of a login failed; ``reason`` says which and how, in a form worth counting."""

    def __init__(self, step: str, why: str, detail: str = "") -> None:
        super().__init__(f"{step} {why}" + (f": {detail}" if detail else ""))
        self.reason = f"{step} {why}"


def reason(error: BaseException, step: str = "") -> str:
    """What to count a failure under: a ``StepFailed``'s reason, else the step that was
    running (when the caller knows it) and the kind of error."""
    if isinstance(error, StepFailed):
        return error.reason
    kind = "timeout" if isinstance(error, TimeoutError | httpx.TimeoutException) else None
    return f"{step} {kind or type(error).__name__}".strip()


def expect(response: httpx.Response, status: int, step: str) -> dict[str, Any]:
    """The JSON body of ``response`` if it has ``status``; else ``StepFailed`` naming the
    status and the error code the body gives (``confirm 409 qrlogin_expired``)."""
    if response.status_code != status:
        why = str(response.status_code)
        try:
            answered = response.json()
        except ValueError:
            answered = None
        error = answered.get("error") if isinstance(answered, dict) else None
        if isinstance(error, str):
            why += f" {error}"
        raise StepFailed(step, why, response.text[:300])
    body: dict[str, Any] = response.json() if response.content else {}
    return body


async def answer(step: str, sending: Awaitable[httpx.Response]) -> httpx.Response:
    """The response to a request being sent, or ``StepFailed`` if none came."""
    try:
        return await sending
    except httpx.TimeoutException:
        raise StepFailed(step, "timeout") from None
    except httpx.HTTPError as error:
        raise StepFailed(step, type(error).__name__, str(error)) from None


async def sandbox_calls(http: httpx.AsyncClient, wechat: str) -> dict[str, int]:
    """The sandbox's WeChat API calls so far, by path (``GET /_sandbox/wechat/stats``)."""
    response = await answer("stats", http.get(f"{wechat}/_sandbox/wechat/stats"))
    calls: dict[str, int] = expect(response, 200, "stats")["calls"]
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
    #: Number matching (recycled codes): the digits the PC shows, which the phone picks.
    match: str | None = None
    image_url: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


async def create(http: httpx.AsyncClient, issuer: str) -> Login:
    verifier, code_challenge = verifier_and_challenge()
    response = await answer(
        "create",
        http.post(
            f"{issuer}/api/qrcodes",
            json={
                "client_id": "demo",
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
                "scope": "openid phone",
            },
        ),
    )
    body = expect(response, 201, "create")
    return Login(
        body["id"], body["secret"], verifier, match=body.get("match"), image_url=body["image_url"]
    )


async def timed_create(
    http: httpx.AsyncClient, issuer: str, latencies: list[float], failures: Counter[str]
) -> None:
    """One QR login created: its latency in milliseconds added to ``latencies``, or its
    failure counted in ``failures`` by reason."""
    started = time.perf_counter()
    try:
        await create(http, issuer)
    except Exception as error:
        failures[reason(error, "create")] += 1
        return
    latencies.append((time.perf_counter() - started) * 1000)


async def read_scene(http: httpx.AsyncClient, public: str, login: Login) -> None:
    """The scene the code shows, from the sandbox demo's helper (the holder of the secret may
    ask): what a phone would read from the PNG, without decoding one per login here."""
    response = await answer(
        "scene", http.get(f"{public}/demo/api/phone-url/{login.id}", headers=login.auth)
    )
    query = parse_qs(urlparse(expect(response, 200, "scene")["phone_url"]).query)
    login.appid, login.scene = query["appid"][0], query["scene"][0]


async def read_image(http: httpx.AsyncClient, login: Login) -> None:
    """The scene from the code's image as the browser loads it, decoded as a phone's camera
    reads it (zxing-cpp, in this process: the server's CPU is what is measured)."""
    response = await answer("image", http.get(login.image_url))
    if response.status_code != 200:
        expect(response, 200, "image")  # raises, naming the status and the error
    found = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(response.content)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    if not found:
        raise StepFailed("image", "without a QR code")
    query = parse_qs(urlparse(found[0].text).query)
    login.appid, login.scene = query["appid"][0], query["scene"][0]


class Phone:
    """Simulated WeChat users: codes from the sandbox at ``wechat``, the mini program's calls
    to the instance at ``api``."""

    def __init__(self, http: httpx.AsyncClient, wechat: str) -> None:
        self.http = http
        self.wechat = wechat

    async def _code(self, kind: str, user: str) -> str:
        step = f"wx/{kind}"
        response = await answer(
            step,
            self.http.post(
                f"{self.wechat}/_sandbox/wx/{kind}", json={"appid": SANDBOX_APP_ID, "user": user}
            ),
        )
        return str(expect(response, 200, step)["code"])

    async def scan(self, api: str, login: Login, user: str) -> None:
        js_code = await self._code("login", user)
        response = await answer(
            "scan",
            self.http.post(
                f"{api}/api/miniprogram/scan", json={"scene": login.scene, "js_code": js_code}
            ),
        )
        login.session = str(expect(response, 200, "scan")["session"])
        login.user = user

    async def confirm(self, api: str, login: Login) -> None:
        phone_code = await self._code("phone_code", login.user)
        login.confirm_sent = time.perf_counter()
        response = await answer(
            "confirm",
            self.http.post(
                f"{api}/api/miniprogram/confirm",
                json={"session": login.session, "phone_code": phone_code, "match": login.match},
            ),
        )
        status = expect(response, 200, "confirm").get("status")
        if status != "authorized":
            raise StepFailed("confirm", f"answered {status}", response.text[:300])


async def exchange(http: httpx.AsyncClient, issuer: str, login: Login, code: str) -> None:
    response = await answer(
        "token",
        http.post(
            f"{issuer}/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": login.verifier,
                "client_id": "demo",
            },
        ),
    )
    if "id_token" not in expect(response, 200, "token"):
        raise StepFailed("token", "without id_token")


async def complete_login(
    http: httpx.AsyncClient,
    phone: Phone,
    user: str,
    first: Server,
    second: Server | None = None,
    *,
    from_image: bool = False,
) -> None:
    """One whole login: create, the scene, scan, a long poll (``?wait=25&last=scanned``) that
    sees the confirm, token. With ``second`` the login hops between two instances at every
    step, as a load balancer may send it: created, confirmed and exchanged on ``first``,
    scanned and waited on ``second``. The scene comes from the code's image when
    ``from_image`` (the requests of a real login, nothing more), else from the sandbox demo's
    helper (a request a real login does not make, but far less client CPU)."""
    other = second or first
    login: Login = await create(http, first.issuer())
    if from_image:
        await read_image(http, login)
    else:
        await read_scene(http, first.public, login)
    await phone.scan(other.public, login, user)
    waiting = asyncio.create_task(
        answer(
            "long poll",
            http.get(
                f"{other.issuer()}/api/qrcodes/{login.id}",
                params={"wait": 25, "last": "scanned"},
                headers=login.auth,
            ),
        )
    )
    try:
        await phone.confirm(first.public, login)
        seen = await waiting
    finally:
        waiting.cancel()
    body = expect(seen, 200, "long poll")
    if body.get("status") != "authorized":
        raise StepFailed("long poll", f"saw {body.get('status')}", str(body)[:300])
    await exchange(http, first.issuer(), login, body["code"])


@dataclass(frozen=True, slots=True)
class HelloWorld:
    """The baseline: a FastAPI hello-world's server CPU a request, and its latency one
    request at a time, measured in the same run as the figures beside it."""

    cpu_ms: float
    latencies_ms: list[float]
    #: Its CPU a request sent by ``RawHTTP`` instead of httpx, the unit of a figure whose own
    #: requests are sent that way: the server's CPU a request depends on its client (below).
    light_cpu_ms: float


async def hello_world_baseline(requests: int, connections: int = 4) -> HelloWorld:
    """``requests`` requests to the hello-world over ``connections`` keep-alive connections
    (its CPU a request, read from ``/proc``), then ``requests // 4`` one at a time (latency),
    then ``requests`` again over as many ``RawHTTP`` connections.

    The same requests cost the server about twice the CPU when httpx sends them as when
    ``RawHTTP`` does (0.33 and 0.34 against 0.18 and 0.17 ms, two rounds): a slower client
    leaves the server idle between requests, so each pays a wake-up of its own, where a
    faster one's arrive together. A figure is only a ratio to a hello-world sent by the same
    client."""
    with hello_world() as server:
        limits = httpx.Limits(max_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:
            url = f"{server.public}/hello"

            async def ask(times: int) -> None:
                for _ in range(times):
                    expect(await answer("hello", http.get(url)), 200, "hello")

            await ask(50)  # imports and first-request work, not the steady cost
            before = cpu_seconds(server.pid)
            await asyncio.gather(*(ask(requests // connections) for _ in range(connections)))
            cpu = cpu_seconds(server.pid) - before
            latencies = []
            for _ in range(max(requests // 4, 1)):
                started = time.perf_counter()
                await ask(1)
                latencies.append((time.perf_counter() - started) * 1000)

        async def ask_light(times: int) -> None:
            conn = await RawHTTP.open(server.public)
            try:
                for _ in range(times):
                    conn.send("/hello", {})
                    status, body = await conn.raw()
                    if status != 200:
                        raise StepFailed("hello", str(status), body.decode(errors="replace"))
            finally:
                conn.close()

        before = cpu_seconds(server.pid)
        await asyncio.gather(*(ask_light(requests // connections) for _ in range(connections)))
        light = cpu_seconds(server.pid) - before
    each = connections * (requests // connections)
    return HelloWorld(cpu * 1000 / each, latencies, light * 1000 / each)


class RawHTTP:
    """One keep-alive HTTP/1.1 connection on asyncio streams. httpx costs a few hundred
    microseconds a request and tens of kilobytes a connection; a waiting browser here costs
    a socket and a coroutine, so the client's weight stays small beside the server's."""

    #: Requests sent over every connection of this process so far.
    sent = 0

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

    def send(
        self, path: str, headers: dict[str, str], method: str = "GET", body: bytes = b""
    ) -> None:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method != "GET":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        RawHTTP.sent += 1

    async def raw(self) -> tuple[int, bytes]:
        """The next response's status and body, whole (a body with a Content-Length)."""
        status, headers = await self._head()
        return status, await self.reader.readexactly(int(headers.get("content-length", "0")))

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
        try:
            return status, json.loads(body) if body else {}
        except ValueError:
            # A server too busy may answer with text (uvicorn's own 500, say).
            text = body.decode(errors="replace")
            raise StepFailed("response", f"{status} not JSON: {text[:40]!r}", text[:300]) from None

    async def events(self) -> AsyncIterator[tuple[str, str]]:
        """``(event, data)`` of a chunked ``text/event-stream`` response."""
        status, headers = await self._head()
        if status != 200:
            await self.reader.readexactly(int(headers.get("content-length", "0")))
            raise StepFailed("event stream", str(status))
        buffer = b""
        event, data = "message", list[str]()
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
    ``codes`` codes; the seconds it took. Reports progress, and when it should be done, every
    half minute."""
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
            rate = made / (now - started)
            left = f", about {(codes - made) / rate:.0f} s left" if rate else ""
            progress(f"code pool: {made}/{codes} codes made ({rate:.1f}/s{left})")
        await asyncio.sleep(0.5)


@dataclass(frozen=True, slots=True)
class SharedStores:
    """PostgreSQL and Redis started for a run (the test suite's servers: throwaway data, no
    fsync), which several deployments share, each in a database and a key prefix of its own."""

    postgres: PostgresServer
    redis: RedisServer

    def env(self, name: str, template: str | None = None) -> dict[str, str]:
        """The settings of a deployment named ``name``: a new database (a copy of the database
        ``template``, when given, which nothing may be connected to), its Redis prefix, and a
        secret key every instance of it shares."""
        copy = f' TEMPLATE "{template}"' if template else ""
        self.postgres.psql(f'CREATE DATABASE "{name}"{copy}')
        return {
            "MINILOGIN_DATABASE_URL": self.postgres.url(name),
            "MINILOGIN_REDIS_URL": self.redis.url(),
            "MINILOGIN_REDIS_PREFIX": f"{name}:",
            "MINILOGIN_SECRET_KEY": "benchmark-shared-secret-key",
        }

    def pids(self) -> list[int]:
        """The PostgreSQL and Redis server processes, to count their CPU with
        ``tree_cpu_seconds`` (PostgreSQL's backends are children of its postmaster): the
        postmaster's from its ``postmaster.pid``, Redis's from ``INFO``."""
        postmaster = int((self.postgres.folder / "data" / "postmaster.pid").read_text().split()[0])
        client = redis.Redis.from_url(self.redis.url())
        try:
            info: dict[str, Any] = client.info("server")
        finally:
            client.close()
        return [postmaster, int(info["process_id"])]


@contextmanager
def shared_stores() -> Iterator[SharedStores]:
    """PostgreSQL and Redis, started once for the deployments on them, stopped afterwards."""
    with postgres_server() as postgres, redis_server() as redis:
        yield SharedStores(postgres, redis)
