"""One load-generating process for ``bench/workers.py`` (not a benchmark: ``run.py`` skips
``_`` files): ``--users`` people logging in at once, each in a closed loop, over hand-written
keep-alive HTTP/1.1 connections (``_drive.RawHTTP``) on uvloop, so that a login costs this
process a small part of what it costs the server.

A login is the requests a real one makes: create, the code's image, ``wx.login`` from the
sandbox and scan, a long poll that sees the confirm, the phone number from the sandbox and
confirm, and the token. The image's scene is decoded once per distinct image (zxing-cpp) and
then remembered by the image's digest: with recycled codes the same images come back, and
decoding each again would make this process, not the server, the bottleneck.

The parent starts it with its settings as one JSON argument, reads ``ready`` once its
connections are open, writes the start time (``time.time()``) on its standard input, and reads
one JSON line of results: the logins completed within the measured window
``[start + warmup, start + warmup + seconds]``, their latencies, and the failures by reason.

    python bench/_load.py '{"api": ..., "wechat": ..., "users": 8, ...}'
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import zxingcpp
from _drive import SANDBOX_APP_ID, RawHTTP, StepFailed, reason, verifier_and_challenge
from common import run
from PIL import Image

ISSUER_PATH = "/pools/demo"
#: A connection idle this long is opened anew before its next request, well before uvicorn
#: closes it (after 5 s idle): a request sent as the server closes would be lost, where a
#: browser would retry it.
KEEPALIVE = 2.0
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Person:
    """One person's connections: the browser's (its requests, and its long poll beside them),
    the mini program's to the server, and the phone's to WeChat (the sandbox)."""

    def __init__(self, api: str, wechat: str, user: str, scenes: dict[bytes, tuple[str, str]]):
        self.api = api
        self.wechat = wechat
        self.user = user
        self.scenes = scenes
        self.connections: dict[str, RawHTTP] = {}
        self.used: dict[str, float] = {}

    def base(self, connection: str) -> str:
        return self.wechat if connection == "wechat" else self.api

    async def open(self) -> None:
        for name in ("browser", "poll", "phone", "wechat"):
            self.connections[name] = await RawHTTP.open(self.base(name))
            self.used[name] = time.monotonic()

    def close(self) -> None:
        for conn in self.connections.values():
            conn.close()
        self.connections.clear()

    async def ask(
        self,
        connection: str,
        step: str,
        path: str,
        *,
        method: str = "GET",
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> bytes:
        conn = self.connections[connection]
        if time.monotonic() - self.used[connection] > KEEPALIVE:
            conn.close()
            conn = self.connections[connection] = await RawHTTP.open(self.base(connection))
        conn.send(path, headers or {}, method, body)
        try:
            answered, content = await conn.raw()
        except (OSError, asyncio.IncompleteReadError) as error:
            raise StepFailed(step, type(error).__name__) from None
        finally:
            self.used[connection] = time.monotonic()
        if answered != status:
            error = ""
            with contextlib.suppress(ValueError, AttributeError):
                error = str(json.loads(content).get("error", ""))
            raise StepFailed(step, f"{answered} {error}".strip(), content[:300].decode("latin-1"))
        return content

    async def json(self, connection: str, step: str, path: str, **kwargs: Any) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(await self.ask(connection, step, path, **kwargs))
        return found

    def scene(self, image: bytes) -> tuple[str, str]:
        """The code's ``(appid, scene)``, as a phone's camera reads it."""
        digest = hashlib.sha256(image).digest()
        known = self.scenes.get(digest)
        if known is None:
            found = zxingcpp.read_barcodes(
                Image.open(io.BytesIO(image)), formats=zxingcpp.BarcodeFormat.QRCode
            )
            if not found:
                raise StepFailed("image", "without a QR code")
            query = parse_qs(urlparse(found[0].text).query)
            known = self.scenes[digest] = (query["appid"][0], query["scene"][0])
        return known

    async def code(self, kind: str) -> str:
        body = json.dumps({"appid": SANDBOX_APP_ID, "user": self.user}).encode()
        answer = await self.json(
            "wechat", f"wx/{kind}", f"/_sandbox/wx/{kind}", method="POST", body=body, headers=JSON
        )
        return str(answer["code"])

    async def login(self) -> None:
        verifier, challenge = verifier_and_challenge()
        request = {
            "client_id": "demo",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "scope": "openid phone",
        }
        created = await self.json(
            "browser",
            "create",
            f"{ISSUER_PATH}/api/qrcodes",
            method="POST",
            body=json.dumps(request).encode(),
            headers=JSON,
            status=201,
        )
        auth = {"Authorization": f"Bearer {created['secret']}"}
        image_url = urlparse(created["image_url"])
        image = await self.ask("browser", "image", f"{image_url.path}?{image_url.query}")
        _, scene = self.scene(image)
        js_code = await self.code("login")
        scanned = await self.json(
            "phone",
            "scan",
            "/api/miniprogram/scan",
            method="POST",
            body=json.dumps({"scene": scene, "js_code": js_code}).encode(),
            headers=JSON,
        )
        waiting = asyncio.create_task(
            self.json(
                "poll",
                "long poll",
                f"{ISSUER_PATH}/api/qrcodes/{created['id']}?wait=25&last=scanned",
                headers=auth,
            )
        )
        try:
            phone_code = await self.code("phone_code")
            confirm = {
                "session": scanned["session"],
                "phone_code": phone_code,
                "match": created.get("match"),
            }
            confirmed = await self.json(
                "phone",
                "confirm",
                "/api/miniprogram/confirm",
                method="POST",
                body=json.dumps(confirm).encode(),
                headers=JSON,
            )
            if confirmed.get("status") != "authorized":
                raise StepFailed("confirm", f"answered {confirmed.get('status')}")
            seen = await waiting
        finally:
            waiting.cancel()
        if seen.get("status") != "authorized":
            raise StepFailed("long poll", f"saw {seen.get('status')}")
        form = {
            "grant_type": "authorization_code",
            "code": seen["code"],
            "code_verifier": verifier,
            "client_id": "demo",
        }
        tokens = await self.json(
            "browser",
            "token",
            f"{ISSUER_PATH}/oidc/token",
            method="POST",
            body=urlencode(form).encode(),
            headers=FORM,
        )
        if "id_token" not in tokens:
            raise StepFailed("token", "without id_token")


async def main(settings: dict[str, Any]) -> dict[str, Any]:
    scenes: dict[bytes, tuple[str, str]] = {}
    people = [
        Person(settings["api"], settings["wechat"], f"{settings['name']}-{n}", scenes)
        for n in range(settings["users"])
    ]
    for person in people:
        await person.open()
    print("ready", flush=True)
    start = float(await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline))
    measured_from = start + settings["warmup"]
    until = measured_from + settings["seconds"]
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    await asyncio.sleep(max(0.0, start - time.time()))

    async def loop(person: Person) -> None:
        while time.time() < until:
            begun = time.time()
            try:
                await person.login()
            except (StepFailed, OSError, ValueError, KeyError) as error:
                if begun >= measured_from:
                    failures[reason(error)] += 1
                # A connection may be left mid-answer: the next login starts on new ones, after
                # a moment for a struggling server (one that refuses connections included).
                person.close()
                await asyncio.sleep(0.5)
                with contextlib.suppress(OSError):
                    await person.open()
                continue
            ended = time.time()
            if measured_from <= ended <= until:
                latencies.append((ended - begun) * 1000)

    await asyncio.gather(*map(loop, people))
    for person in people:
        person.close()
    return {"latencies_ms": latencies, "failures": dict(failures)}


if __name__ == "__main__":
    print(json.dumps(run(main(json.loads(sys.argv[1])))), flush=True)
