"""No page of the service can be framed by another site (clickjacking)."""

from __future__ import annotations

import httpx
import pytest
from tests.conftest import PUBLIC

from minilogin.core.pkce import s256

AUTHORIZE = {
    "client_id": "demo",
    "response_type": "code",
    "redirect_uri": f"{PUBLIC}/demo/callback",
    "scope": "openid",
    "code_challenge": s256("v" * 43),
    "code_challenge_method": "S256",
}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/_sandbox/phone", {"appid": "wx0000000000sandbox", "scene": "s"}),
        ("/demo/", {}),
        ("/docs", {}),
        ("/redoc", {}),
        ("/console/login", {}),
        ("/pools/demo/oidc/auth", AUTHORIZE),
        ("/pools/demo/oidc/auth", {}),  # the error page
        ("/pools/demo/oidc/session/end", {}),
        ("/nowhere", {}),
    ],
)
async def test_every_page_refuses_to_be_framed(
    http: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    response = await http.get(path, params=params)
    assert response.headers["x-frame-options"] == "DENY"
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
