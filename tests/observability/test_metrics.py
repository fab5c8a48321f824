"""``minilogin serve --workers 2`` reports the metrics of both workers, whichever of them
answers the scrape (prometheus-client's multiprocess mode, set up by ``serve``).

A ``minilogin dev`` process plays WeChat (its sandbox) and seeds the shared database; the two
workers share Redis. Every request opens a new connection, so the kernel spreads them over
both workers, as a load balancer's connections would be.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.support.actors import Browser, Phone
from tests.support.metrics import scrape
from tests.support.redis_server import redis_server
from tests.support.server import free_port, launch, wait_until_serving

from minilogin.config import SANDBOX_APP_ID, SANDBOX_APP_SECRET
from minilogin.seed import DEMO_CONNECTION

pytestmark = pytest.mark.slow

LOGINS = 6


@contextmanager
def minilogin(folder: Path, arguments: list[str], env: dict[str, str]) -> Iterator[str]:
    """A ``minilogin`` process, ready to serve; stopped (killed if it must be) at the end."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    instance = launch(folder, arguments, {**env, "MINILOGIN_PUBLIC_URL": public}, port)
    try:
        wait_until_serving(instance, "/readyz")
        yield public
    finally:
        instance.stop()


class SandboxPhone(Phone):
    """``wx.login`` and the phone-number button come from the WeChat sandbox's process."""

    def __init__(self, http: httpx.AsyncClient, public: str, wechat: str, user: str) -> None:
        super().__init__(http, public, user)
        self.wechat = wechat

    async def _code(self, kind: str, appid: str) -> str:
        response = await self.http.post(
            f"{self.wechat}/_sandbox/wx/{kind}", json={"appid": appid, "user": self.user}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["code"])


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    fresh_connections = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=fresh_connections) as client:
        yield client


async def test_every_scrape_of_two_workers_counts_the_logins_of_both(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    shared = {
        "MINILOGIN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}",
        "MINILOGIN_SECRET_KEY": "the-key-both-processes-share",
    }
    with (
        redis_server() as redis,
        minilogin(tmp_path / "wechat", ["dev"], shared) as wechat,
    ):
        env = {
            **shared,
            "MINILOGIN_REDIS_URL": redis.url(),
            "MINILOGIN_WECHAT_API_URL": f"{wechat}/_sandbox/wechat",
            "MINILOGIN_WECHAT_APP_ID": SANDBOX_APP_ID,
            "MINILOGIN_WECHAT_APP_SECRET": SANDBOX_APP_SECRET,
        }
        workers_folder = tmp_path / "workers"
        with minilogin(workers_folder, ["serve", "--workers", "2"], env) as public:
            browser = Browser(http, f"{public}/pools/demo")
            phone = SandboxPhone(http, public, wechat, "worker-user")
            for _ in range(LOGINS):
                login = await browser.create()
                appid, scene = await browser.read_code(login)
                session = (await phone.scan(appid, scene)).json()["session"]
                assert (await phone.confirm(appid, session)).json() == {"status": "authorized"}
                code = (await browser.status(login))["code"]
                assert (await browser.exchange(login, code)).status_code == 200

            # Both workers counted some of it, each in files of its own...
            files = list((workers_folder / "prometheus").glob("counter_*.db"))
            assert len({path.stem.split("_")[1] for path in files}) == 2, files
            # ... and each scrape, whichever worker answers it, adds them all up.
            succeeded = {"outcome": "succeeded", "pool": "demo", "source": DEMO_CONNECTION}
            for _ in range(10):
                metrics = await scrape(http, public)
                assert metrics.value("minilogin_logins_total", **succeeded) == LOGINS
                created = {"event": "created", "pool": "demo", "source": DEMO_CONNECTION}
                assert metrics.value("minilogin_login_events_total", **created) == LOGINS
                scans = metrics.value("minilogin_wechat_calls_total", endpoint="jscode2session")
                assert scans == LOGINS
                assert metrics.value("minilogin_waiting_browsers") == 0
