"""A stream of complete logins, as real users and their devices make them, through a client-side
load balancer over the instances: what the fault tests run while they break things.

Each user, in a loop: the browser creates a QR login, loads its code and reads it as a camera
would, then waits for the outcome (on an event stream or on long polls, alternately); the phone
scans and confirms through the sandbox's WeChat; the browser exchanges the code for tokens.
Every request retries, as the SDK does, on a network error, 502, 503 and 504 with a small
backoff and jitter, going to the other instance; each answer's status is recorded, and any 5xx
but a 503 with ``Retry-After`` (a dependency's outage) is a failure.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import httpx
from tests.support.actors import decode_qr, scene_of

from minilogin.core.pkce import s256

#: How long one request may keep retrying through an outage before its login counts as lost.
STEP_DEADLINE = 40.0
#: How long a browser may wait for a status its phone has already confirmed.
CONFIRMED_TO_BROWSER = 20.0
TRANSIENT = (502, 503, 504)
LONG_POLL_WAIT = 10


class LoginLost(Exception):
    """A login that cannot finish: a step was refused, or retried past its deadline.
    ``cut`` names the phase in which a request of the step was cut after reaching an
    instance (if one was), so that a retry may have been refused for what the first attempt
    did."""

    def __init__(self, why: str, cut: str | None = None) -> None:
        super().__init__(why)
        self.cut = cut


@dataclass
class Completed:
    started: float
    finished: float


@dataclass
class Record:
    """What the users saw, by phase of the test (the fault under way when it happened)."""

    phase: str = "warm-up"
    failures: list[str] = field(default_factory=list)
    completed: list[Completed] = field(default_factory=list)
    #: Logins given up: (phase begun in, why, phase a request of theirs was cut in flight).
    lost: list[tuple[str, str, str | None]] = field(default_factory=list)
    #: Browsers whose phone confirmed but that never saw ``authorized``: (phase, why).
    unfinished_browsers: list[tuple[str, str]] = field(default_factory=list)
    retried: int = 0
    #: Set at each completed login.
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    def completed_since(self, moment: float) -> list[Completed]:
        """Logins begun at or after ``moment`` and finished."""
        return [login for login in self.completed if login.started >= moment]


def backoff(attempt: int, retry_after: str | None) -> float:
    """The SDK's delay: exponential from 100 ms, at most 1 s, jittered; a ``Retry-After`` the
    server gave is honoured (up to 2 s, so a test stays short)."""
    if retry_after is not None and retry_after.isdigit():
        return min(float(retry_after), 2.0)
    ceiling = min(0.1 * 2**attempt, 1.0)
    return random.uniform(ceiling / 2, ceiling)


class Balancer:
    """Sends each request to one instance, and on a transient failure to the next one."""

    def __init__(self, http: httpx.AsyncClient, urls: list[str], record: Record) -> None:
        self.http = http
        self.urls = urls
        self.record = record

    def judge(self, response: httpx.Response, what: str) -> bool:
        """Whether ``response`` is transient (to be retried); a failure is noted."""
        status = response.status_code
        if status < 500:
            return False
        if status != 503 or "retry-after" not in response.headers:
            self.record.failures.append(
                f"{self.record.phase}: {what} answered {status}: {response.text[:200]}"
            )
        return status in TRANSIENT or status >= 500

    async def send(
        self,
        method: str,
        path: str,
        prefer: int,
        body: Callable[[], Awaitable[dict[str, Any]]] | None = None,
        **options: Any,
    ) -> tuple[httpx.Response, str | None, list[str]]:
        """The first answer that is not transient, the phase in which an earlier attempt was
        cut after it may have reached an instance (so that it may have taken effect), and what
        the earlier attempts met.

        ``body`` makes each attempt's JSON afresh: a WeChat code is single-use."""
        deadline = time.monotonic() + STEP_DEADLINE
        in_flight_cut: str | None = None
        tried: list[str] = []
        attempt = 0
        while True:
            url = self.urls[(prefer + attempt) % len(self.urls)] + path
            retry_after = None
            try:
                payload = None if body is None else await body()
                response = await self.http.request(method, url, json=payload, **options)
            except httpx.ConnectError:
                tried.append("connection refused")  # never reached it: safe to send elsewhere
            except httpx.TransportError as error:
                tried.append(f"{type(error).__name__} in {self.record.phase}")
                in_flight_cut = self.record.phase
            else:
                if not self.judge(response, f"{method} {path}"):
                    return response, in_flight_cut, tried
                tried.append(f"{response.status_code} in {self.record.phase}")
                retry_after = response.headers.get("retry-after")
            attempt += 1
            self.record.retried += 1
            if time.monotonic() > deadline:
                raise LoginLost(f"{method} {path}: still failing after {STEP_DEADLINE} s: {tried}")
            await asyncio.sleep(backoff(attempt, retry_after))


class User:
    """One person logging in again and again, on a PC and a phone."""

    def __init__(
        self, balancer: Balancer, sandbox: str, pool: str, client_id: str, number: int
    ) -> None:
        self.lb = balancer
        self.http = balancer.http
        self.sandbox = sandbox
        self.pool = pool
        self.client_id = client_id
        self.name = f"faults-user-{number}-{secrets.token_hex(3)}"
        self.record = balancer.record
        self.logins = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            phase = self.record.phase
            try:
                await self.login(self.logins)
            except LoginLost as lost:
                self.record.lost.append((phase, str(lost), lost.cut))
            self.logins += 1

    async def wechat_code(self, kind: str, appid: str) -> str:
        """``wx.login``'s or the phone-number button's code, from WeChat (the sandbox)."""
        response = await self.http.post(
            f"{self.sandbox}/_sandbox/wx/{kind}", json={"appid": appid, "user": self.name}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["code"])

    def expect(
        self, answer: tuple[httpx.Response, str | None, list[str]], status: int, step: str
    ) -> Any:
        response, cut, tried = answer
        if response.status_code != status:
            why = f"{step}: {response.status_code} {response.text[:200]} after {tried}"
            raise LoginLost(why, cut)
        json_body = response.headers.get("content-type", "").startswith("application/json")
        return response.json() if json_body else None

    @staticmethod
    def confirmed_before(answer: tuple[httpx.Response, str | None, list[str]]) -> bool:
        """A confirm sent again after an attempt met a transient failure, answered 409
        ``qrlogin_authorized``: the earlier attempt did its work and only its answer was lost
        (Redis stopping between a write and its reply). The mini program takes it as
        authorized (``miniprogram/lib/errors.js``), and so does this phone."""
        response, _, tried = answer
        if response.status_code != 409 or not tried:
            return False
        error = response.json().get("error")
        return error in ("qrlogin_authorized", "qrlogin_consumed")

    async def login(
        self, number: int, scanned: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """One complete login; ``scanned``, if given, is awaited between scan and confirm
        (while the browser waits)."""
        started = time.monotonic()
        prefer = number % 2
        issuer = f"/pools/{self.pool}"
        verifier = secrets.token_urlsafe(48)
        fields = {
            "client_id": self.client_id,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
            "scope": "openid profile phone",
            "nonce": secrets.token_urlsafe(8),
        }

        async def creation() -> dict[str, Any]:
            return fields

        answer = await self.lb.send("POST", f"{issuer}/api/qrcodes", prefer, creation)
        created = self.expect(answer, 201, "create")
        auth = {"Authorization": f"Bearer {created['secret']}"}
        # The image's URL names the public address; the balancer picks the instance.
        answer = await self.lb.send("GET", urlparse(created["image_url"]).path, prefer)
        self.expect(answer, 200, "image")
        appid, scene = scene_of(decode_qr(answer[0].content))

        status_path = f"{issuer}/api/qrcodes/{created['id']}"
        wait = self.stream if number % 4 < 2 else self.long_poll
        # The browser waits on the other instance than the phone uses.
        browser = asyncio.create_task(wait(status_path, auth, 1 - prefer))
        try:

            async def scanning() -> dict[str, Any]:
                return {"scene": scene, "js_code": await self.wechat_code("login", appid)}

            answer = await self.lb.send("POST", "/api/miniprogram/scan", prefer, scanning)
            session = self.expect(answer, 200, "scan")["session"]
            if scanned is not None:
                await scanned()

            async def confirming() -> dict[str, Any]:
                code = await self.wechat_code("phone_code", appid)
                return {"session": session, "phone_code": code}

            answer = await self.lb.send("POST", "/api/miniprogram/confirm", prefer, confirming)
            if not self.confirmed_before(answer):
                assert self.expect(answer, 200, "confirm")["status"] == "authorized"
            confirmed_in = self.record.phase
            try:
                async with asyncio.timeout(CONFIRMED_TO_BROWSER):
                    seen = await browser
            except TimeoutError:
                self.record.unfinished_browsers.append(
                    (confirmed_in, f"{created['id']}: no authorized after the phone confirmed")
                )
                raise LoginLost("the browser never saw authorized") from None
        finally:
            browser.cancel()
        if seen.get("status") != "authorized":
            self.record.unfinished_browsers.append((confirmed_in, f"{created['id']}: saw {seen}"))
            raise LoginLost(f"the browser ended on {seen}")

        token_form = {
            "grant_type": "authorization_code",
            "code": seen["code"],
            "code_verifier": verifier,
            "client_id": self.client_id,
        }
        answer = await self.lb.send("POST", f"{issuer}/oidc/token", prefer, data=token_form)
        tokens = self.expect(answer, 200, "token")
        assert tokens["token_type"].lower() == "bearer"
        assert tokens["id_token"]
        self.record.completed.append(Completed(started, time.monotonic()))
        self.record.progress.set()

    async def long_poll(self, path: str, auth: dict[str, str], prefer: int) -> dict[str, Any]:
        """The browser's long polls, until a terminal status; each answer is asked again."""
        last = "pending"
        while True:
            params = {"wait": LONG_POLL_WAIT, "last": last}
            answer = await self.lb.send("GET", path, prefer, headers=auth, params=params)
            body: dict[str, Any] = self.expect(answer, 200, "long poll")
            if body["status"] not in ("pending", "scanned"):
                return body
            last = body["status"]

    async def stream(self, path: str, auth: dict[str, str], prefer: int) -> dict[str, Any]:
        """The browser's ``EventSource``: on an end or an error it connects again (to the
        other instance, as a load balancer would), after the last ``retry:`` hint."""
        attempt = 0
        last_id: str | None = None
        while True:
            url = self.lb.urls[(prefer + attempt) % len(self.lb.urls)] + f"{path}/events"
            headers = auth if last_id is None else {**auth, "Last-Event-ID": last_id}
            delay = backoff(attempt + 1, None)
            try:
                async with self.http.stream("GET", url, headers=headers) as response:
                    if response.status_code != 200:
                        await response.aread()
                        if not self.lb.judge(response, f"GET {path}/events"):
                            self.expect((response, None, []), 200, "events")
                        delay = backoff(attempt + 1, response.headers.get("retry-after"))
                    else:
                        async for event in _events(response):
                            if event.retry is not None:
                                delay = event.retry / 1000
                            if event.id is not None:
                                last_id = event.id
                            if event.data is None:
                                continue
                            body = event.data
                            if body["status"] not in ("pending", "scanned"):
                                return body
            except httpx.TransportError:
                pass
            attempt += 1
            self.record.retried += 1
            await asyncio.sleep(delay)


@dataclass
class _Event:
    id: str | None
    retry: int | None
    data: dict[str, Any] | None


async def _events(response: httpx.Response) -> Any:
    """Each block of a stream as the HTML standard's parser reads it, blocks without data
    included: a stream's last block may be a ``retry:`` hint alone."""
    event_id: str | None = None
    retry: int | None = None
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            yield _Event(event_id, retry, json.loads("\n".join(data)) if data else None)
            retry, data = None, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name == "id":
                event_id = value
            elif name == "retry" and value.isdigit():
                retry = int(value)
