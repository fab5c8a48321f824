"""The log a real ``minilogin dev`` process writes to stderr through whole logins: with
``MINILOGIN_LOG_FORMAT=json`` one JSON object a line, a line per request and per login step,
and not one secret, code or token anywhere in it; plain text without the setting."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.actors import Browser, Phone
from tests.support.server import free_port
from tests.support.sse import server_sent_events

from minilogin.seed import DEMO_CONNECTION

pytestmark = pytest.mark.slow

#: The shortest life a QR login may have: one of them is left to expire.
EXPIRES_IN = 30


@contextmanager
def dev_server(folder: Path, **env: str) -> Iterator[tuple[str, Path]]:
    """``minilogin dev`` with its stderr (the log) in a file of its own; stopped at the end."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    stderr = folder / "stderr.log"
    environment = {
        **os.environ,
        "MINILOGIN_DATA_DIR": str(folder),
        "MINILOGIN_PUBLIC_URL": public,
        **env,
    }
    with stderr.open("wb") as err, (folder / "stdout.log").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "minilogin", "dev", "--port", str(port)],
            env=environment,
            stdout=out,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, stderr.read_text()
            try:
                if httpx.get(f"{public}/healthz").is_success:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, stderr.read_text()
            time.sleep(0.1)
        yield public, stderr
    finally:
        process.terminate()
        process.wait(15)


async def whole_login(http: httpx.AsyncClient, public: str, secrets: list[str]) -> str:
    """Create, scan, confirm, exchange and refresh, waiting on the event stream; every secret
    met is added to ``secrets``."""
    issuer = f"{public}/pools/demo"
    browser = Browser(http, issuer)
    phone = Phone(http, public, "log-user")
    await phone.set_profile(phone="+8613800138002")
    login = await browser.create()
    secrets += [login.secret, login.verifier]
    appid, scene = await browser.read_code(login)
    async with http.stream(
        "GET",
        f"{issuer}/api/qrcodes/{login.id}/events",
        headers={"Accept": "text/event-stream", **login.auth},
    ) as response:
        events = server_sent_events(response)
        await anext(events)
        session = (await phone.scan(appid, scene)).json()["session"]
        secrets.append(session)
        await anext(events)
        assert (await phone.confirm(appid, session)).json() == {"status": "authorized"}
        code = (await anext(events)).json()["code"]
    secrets.append(code)
    tokens = (await browser.exchange(login, code)).json()
    refreshed = await http.post(
        f"{issuer}/oidc/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": "demo",
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    secrets += [tokens[name] for name in ("access_token", "id_token", "refresh_token")]
    secrets.append(refreshed.json()["refresh_token"])
    userinfo = await http.get(
        f"{issuer}/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert userinfo.status_code == 200
    return login.id


def lines_of(log: Path) -> list[dict[str, Any]]:
    lines = log.read_text().splitlines()
    assert lines
    return [json.loads(line) for line in lines]


async def test_json_logs_through_whole_logins_hold_no_secret(tmp_path: Path) -> None:
    env = {"MINILOGIN_LOG_FORMAT": "json", "MINILOGIN_QR_EXPIRES_IN": str(EXPIRES_IN)}
    secrets: list[str] = []
    with dev_server(tmp_path, **env) as (public, log):
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=40.0)) as http:
            browser = Browser(http, f"{public}/pools/demo")
            left = await browser.create()
            secrets.append(left.secret)
            # The browser waits for this one until its deadline passes.
            expiring = asyncio.create_task(browser.status(left, wait=EXPIRES_IN, last="pending"))
            succeeded = await whole_login(http, public, secrets)
            dropped = await browser.create()
            secrets.append(dropped.secret)
            cancel = await http.delete(
                f"{public}/pools/demo/api/qrcodes/{dropped.id}", headers=dropped.auth
            )
            assert cancel.status_code == 204
            assert (await expiring)["status"] == "expired"
    entries = lines_of(log)  # every line is one JSON object

    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys(), entry
    requests = [entry for entry in entries if entry.get("event") == "request"]
    stream = next(entry for entry in requests if entry["path"].endswith("/events"))
    assert stream["method"] == "GET"
    assert stream["status"] == 200
    assert stream["path"] == f"/pools/demo/api/qrcodes/{succeeded}/events"
    assert isinstance(stream["duration_ms"], float)
    assert any(entry["path"] == "/pools/demo/oidc/token" for entry in requests)

    def steps(login_id: str) -> list[str]:
        found = [entry for entry in entries if entry.get("login_id") == login_id]
        for entry in found:
            assert entry["logger"] == "minilogin.login"
            assert (entry["pool"], entry["client_id"]) == ("demo", "demo")
            assert entry["source"] == DEMO_CONNECTION
        return [entry["event"] for entry in found]

    assert steps(succeeded) == [
        "login.created",
        "login.scanned",
        "login.authorized",
        "login.consumed",
    ]
    assert steps(dropped.id) == ["login.created", "login.cancelled"]
    assert steps(left.id) == ["login.created", "login.expired"]

    text = log.read_text()
    assert len(secrets) == 10
    for secret in secrets:
        assert secret not in text
    assert "13800138002" not in text
    assert "secret=" not in text
    assert "js_code" not in text


async def test_logs_are_plain_text_by_default(tmp_path: Path) -> None:
    with dev_server(tmp_path) as (public, log):
        async with httpx.AsyncClient(timeout=10) as http:
            assert (await http.get(f"{public}/healthz")).status_code == 200
            assert (await http.get(f"{public}/readyz?probe=1")).status_code == 200
    text = log.read_text()
    assert "GET /healthz 200" in text
    assert "GET /readyz 200" in text
    assert "probe=1" not in text
    assert not any(line.startswith("{") for line in text.splitlines())
