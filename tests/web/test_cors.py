"""Cross-origin access (``web/cors.py``): to the mini program API only against a WeChat sandbox,
whose phone simulator plays the mini program from the sandbox's own origin; and to the SDK's
files from every origin, since an integrator's page imports ``/static/minilogin.js`` and
``/static/authing-compat.js`` as modules, which browsers fetch with CORS."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.conftest import PUBLIC

from minilogin.app import create_app
from minilogin.config import Settings
from minilogin.storage.sql.migrate import upgrade_async

SIMULATOR = "http://127.0.0.1:8001"
PREFLIGHT = {
    "Origin": SIMULATOR,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type, accept-language",
}


async def test_against_a_sandbox_its_phone_simulator_may_call_the_mini_program_api(
    http: httpx.AsyncClient,
) -> None:
    allowed = await http.options("/api/miniprogram/scan", headers=PREFLIGHT)
    answered = await http.post(
        "/api/miniprogram/scan", json={"scene": "x", "js_code": "y"}, headers={"Origin": SIMULATOR}
    )

    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == SIMULATOR
    assert "content-type" in allowed.headers["access-control-allow-headers"]
    assert answered.json()["error"] == "scene_not_found"
    assert answered.headers["access-control-allow-origin"] == "*"


async def test_against_wechat_no_page_may_call_the_mini_program_api(tmp_path: Path) -> None:
    settings = Settings(
        public_url=PUBLIC, data_dir=tmp_path, wechat_app_id="wxprod", wechat_app_secret="s"
    )
    await upgrade_async(settings.database_url)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http,
    ):
        refused = await http.options("/api/miniprogram/scan", headers=PREFLIGHT)
        answered = await http.post(
            "/api/miniprogram/scan",
            json={"scene": "x", "js_code": "y"},
            headers={"Origin": SIMULATOR},
        )

    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in answered.headers


async def test_the_sdks_files_are_readable_from_any_origin(http: httpx.AsyncClient) -> None:
    for name in ("minilogin.js", "authing-compat.js", "favicon.svg"):
        response = await http.get(
            f"{PUBLIC}/static/{name}", headers={"Origin": "https://shop.example"}
        )
        assert response.status_code == 200, name
        assert response.headers["access-control-allow-origin"] == "*"
    missing = await http.get(f"{PUBLIC}/static/nope.js", headers={"Origin": "https://x.example"})
    assert missing.status_code == 404
