"""``/healthz`` and ``/readyz`` of real ``minilogin dev`` processes, probed as a load balancer
probes them, with their dependencies up and then out: Redis stopped for real, WeChat's API
URL pointing at a port where nothing listens."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from tests.support.metrics import scrape
from tests.support.redis_server import redis_server
from tests.support.server import free_port, minilogin_dev

from minilogin import __version__

pytestmark = pytest.mark.slow

WECHAT = "https://api.weixin.qq.com"


async def test_a_dev_server_is_alive_and_ready_and_warns_of_its_sandbox(tmp_path: Path) -> None:
    with minilogin_dev(tmp_path) as server:
        async with httpx.AsyncClient(timeout=10) as http:
            alive = await http.get(f"{server.public}/healthz")
            assert alive.status_code == 200
            assert alive.json() == {"status": "ok", "version": __version__}

            ready = await http.get(f"{server.public}/readyz")
            assert ready.status_code == 200, ready.text
            body = ready.json()
            assert body["status"] == "ready"
            assert body["checks"]["database"]["ok"] is True
            assert "redis" not in body["checks"]  # not configured: the memory store
            sandbox = f"{server.public}/_sandbox/wechat"
            assert body["checks"]["wechat"] == {"ok": True, "url": sandbox}
            assert body["warnings"] == [f"sandbox: the WeChat API URL is {sandbox}, not {WECHAT}"]

            # Balancers probe every few seconds from many places: nothing ever refuses them.
            paths = ("/healthz", "/readyz") * 40
            answers = await asyncio.gather(*(http.get(f"{server.public}{p}") for p in paths))
            assert {answer.status_code for answer in answers} == {200}


async def test_readiness_fails_while_redis_is_down(tmp_path: Path) -> None:
    with ExitStack() as redis_running:
        redis = redis_running.enter_context(redis_server())
        with minilogin_dev(tmp_path, MINILOGIN_REDIS_URL=redis.url()) as server:
            async with httpx.AsyncClient(timeout=10) as http:
                ready = await http.get(f"{server.public}/readyz")
                assert ready.status_code == 200, ready.text
                assert ready.json()["checks"]["redis"]["ok"] is True

                redis_running.close()  # Redis stops; the server keeps running

                out = await http.get(f"{server.public}/readyz")
                assert out.status_code == 503
                assert out.headers["retry-after"]
                body = out.json()
                assert body["status"] == "not_ready"
                assert body["error"] == "temporarily_unavailable"
                assert body["message"]
                assert body["checks"]["redis"]["ok"] is False
                assert body["checks"]["database"]["ok"] is True
                # Alive all the same: restarting the process would not bring Redis back.
                assert (await http.get(f"{server.public}/healthz")).status_code == 200

                # What a browser meets meanwhile is a 503 too, and it is counted.
                before = await scrape(http, server.public)
                login = await http.post(
                    f"{server.issuer()}/api/qrcodes",
                    json={"client_id": "demo", "code_challenge": "x" * 43},
                )
                assert login.status_code == 503
                after = await scrape(http, server.public)
                errors = "minilogin_http_server_errors_total"
                grown = after.value(errors, status="503") - before.value(errors, status="503")
                assert grown == 1


async def test_readiness_fails_while_wechat_is_unreachable(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with minilogin_dev(tmp_path, MINILOGIN_WECHAT_API_URL=nowhere) as server:
        async with httpx.AsyncClient(timeout=10) as http:
            out = await http.get(f"{server.public}/readyz")
            assert out.status_code == 503
            body = out.json()
            assert body["checks"]["wechat"] == {
                "ok": False,
                "url": nowhere,
                "error": "ConnectError",
            }
            assert body["checks"]["database"]["ok"] is True
            assert body["warnings"] == [f"sandbox: the WeChat API URL is {nowhere}, not {WECHAT}"]
