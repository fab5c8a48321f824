"""Cross-origin reads of the SDK's files (``web/cors.py``): an integrator's page imports
``/static/minilogin.js`` and ``/static/authing-compat.js`` as modules, which browsers fetch
with CORS; the files are public, so every origin may read them."""

from __future__ import annotations

import httpx
from tests.conftest import PUBLIC


async def test_the_sdks_files_are_readable_from_any_origin(http: httpx.AsyncClient) -> None:
    for name in ("minilogin.js", "authing-compat.js", "favicon.svg"):
        response = await http.get(
            f"{PUBLIC}/static/{name}", headers={"Origin": "https://shop.example"}
        )
        assert response.status_code == 200, name
        assert response.headers["access-control-allow-origin"] == "*"
    same_site = await http.get(f"{PUBLIC}/static/minilogin.js")
    assert "access-control-allow-origin" not in same_site.headers
    missing = await http.get(f"{PUBLIC}/static/nope.js", headers={"Origin": "https://x.example"})
    assert missing.status_code == 404
