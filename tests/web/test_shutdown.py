"""A deploy stops an instance with SIGTERM while browsers wait on it (issue 14 §3): a real
``minilogin dev`` process with waiting long polls and event streams. Each long poll is
answered 200 with its login's current status and each stream ends with a ``retry:`` hint,
at once, so that the browsers ask again (an instance that stays); the process then exits
without its graceful timeout having to cut anyone off."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest
from tests.support.actors import Browser, BrowserLogin
from tests.support.server import RunningServer, minilogin_dev

pytestmark = pytest.mark.slow

WAITERS = 8


async def stream_lines(
    web: httpx.AsyncClient, server: RunningServer, login: BrowserLogin, opened: asyncio.Event
) -> list[str]:
    """Every line of the login's event stream, until the server ends it."""
    url = f"{server.issuer()}/api/qrcodes/{login.id}/events"
    lines: list[str] = []
    async with web.stream("GET", url, headers=login.auth) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            lines.append(line)
            if line.startswith("data:"):
                opened.set()
    return lines


async def test_sigterm_answers_every_waiting_browser_and_exits(tmp_path: Path) -> None:
    with minilogin_dev(tmp_path, MINILOGIN_RATE_LIMIT_SCALE="0") as server:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=40.0)) as web:
            browser = Browser(web, server.issuer())
            logins = [await browser.create() for _ in range(2 * WAITERS)]
            polls = [
                asyncio.create_task(
                    web.get(
                        f"{server.issuer()}/api/qrcodes/{login.id}",
                        params={"wait": 30, "last": "pending"},
                        headers=login.auth,
                    )
                )
                for login in logins[:WAITERS]
            ]
            opened = [asyncio.Event() for _ in range(WAITERS)]
            streams = [
                asyncio.create_task(stream_lines(web, server, login, event))
                for login, event in zip(logins[WAITERS:], opened, strict=True)
            ]
            async with asyncio.timeout(10):
                for event in opened:
                    await event.wait()
            # The long polls are waiting too: none has answered yet.
            await asyncio.sleep(0.3)
            assert not any(poll.done() for poll in polls)

            server.process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(10):
                answers = await asyncio.gather(*polls)
                ended = await asyncio.gather(*streams)

            for answer, login in zip(answers, logins, strict=False):
                assert answer.status_code == 200, answer.text
                assert answer.json()["id"] == login.id
                assert answer.json()["status"] == "pending"
            for lines in ended:
                hints = [line for line in lines if line.startswith("retry:")]
                # The first at the start (as always), the last one as the stream ends.
                assert len(hints) == 2, lines
                assert lines[-2:] == [hints[-1], ""], lines
                assert 500 <= int(hints[-1].removeprefix("retry:")) <= 2000

            # It accepts no new work, and goes: the waiters may be answered a moment before
            # uvicorn closes its socket, so new connections are refused soon, not at once. A
            # connection the kernel queued just before that socket closed is reset unanswered
            # (a read error, not a refusal): either way no request was taken.
            discovery = f"{server.issuer()}/.well-known/openid-configuration"
            async with asyncio.timeout(5), httpx.AsyncClient() as fresh:
                while True:
                    try:
                        answer = await fresh.get(discovery, headers={"Connection": "close"})
                    except (httpx.ConnectError, httpx.ReadError):
                        break
                    assert answer.status_code < 500, answer.text
                    await asyncio.sleep(0.05)
        server.process.wait(10)
        log = server.log.read_text()
        assert "timeout graceful shutdown exceeded" not in log, log
        assert "Traceback" not in log, log
