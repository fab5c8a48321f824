"""The sandbox as its own application (what ``minilogin sandbox`` serves): its codes open its
own phone simulator, and what it does not answer is a 404 with minilogin's error body. The
process itself is started in ``tests/test_serve.py`` and ``tests/test_two_instances.py``."""

from __future__ import annotations

import httpx
from tests.support.actors import decode_qr

from minilogin.sandbox.app import create_sandbox_app

PUBLIC = "http://wechat.sandbox.test:8001"
APPID = "wx1234567890abcdef"


async def test_its_codes_open_its_own_phone_simulator() -> None:
    app = create_sandbox_app(f"{PUBLIC}/")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http:
        token = await http.post(
            "/_sandbox/wechat/cgi-bin/stable_token",
            json={"grant_type": "client_credential", "appid": APPID, "secret": "s3cret"},
        )
        code = await http.post(
            "/_sandbox/wechat/wxa/getwxacodeunlimit",
            params={"access_token": token.json()["access_token"]},
            json={"scene": "abc"},
        )
        phone = await http.get("/_sandbox/phone", params={"appid": APPID, "scene": "abc"})

    assert decode_qr(code.content) == f"{PUBLIC}/_sandbox/phone?appid={APPID}&scene=abc"
    assert phone.status_code == 200


async def test_it_answers_nothing_but_the_sandbox() -> None:
    transport = httpx.ASGITransport(app=create_sandbox_app(PUBLIC))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http:
        for path in ("/", "/docs", "/openapi.json", "/demo/", "/pools/demo/oidc/jwks"):
            response = await http.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"] == "not_found"
        wrong_method = await http.delete("/_sandbox/phone")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"
