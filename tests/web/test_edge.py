"""The edge (``web/edge.py``): every request observed with the path it came in on, its body
held to its limit before CORS is looked at, every answer unframeable and carrying the CORS
headers its origin was allowed."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from tests.conftest import PUBLIC, sandbox_settings

from minilogin.config import Settings
from minilogin.core.pkce import s256

ISSUER = f"{PUBLIC}/pools/demo"
SUBDOMAIN = "https://demo.login.test"
CREATE = {"client_id": "demo", "code_challenge": s256("v" * 43)}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sandbox_settings(PUBLIC, tmp_path, pool_domain="login.test")


def logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, int]]:
    return [
        (r.__dict__["method"], r.__dict__["path"], r.__dict__["status"])
        for r in caplog.records
        if r.name == "minilogin.request"
    ]


async def test_every_answer_is_observed_with_the_path_it_came_in_on(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="minilogin.request")
    on_subdomain = await http.get(f"{SUBDOMAIN}/.well-known/openid-configuration")
    assert on_subdomain.json()["issuer"] == SUBDOMAIN
    unknown = await http.get(f"{PUBLIC}/nowhere", params={"code": "secret"})
    too_large = await http.post(f"{ISSUER}/api/qrcodes", json={**CREATE, "nonce": "n" * 70_000})
    assert (unknown.status_code, too_large.status_code) == (404, 413)
    assert logged(caplog) == [
        ("GET", "/.well-known/openid-configuration", 200),
        ("GET", "/nowhere", 404),
        ("POST", "/pools/demo/api/qrcodes", 413),
    ]


async def test_the_edges_own_answers_are_unframeable_and_a_413_has_no_cors(
    http: httpx.AsyncClient,
) -> None:
    origin = {"Origin": PUBLIC}
    too_large = await http.post(
        f"{ISSUER}/api/qrcodes", json={**CREATE, "nonce": "n" * 70_000}, headers=origin
    )
    preflight = await http.options(
        f"{ISSUER}/api/qrcodes", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    refused = await http.options(
        f"{ISSUER}/api/qrcodes",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    created = await http.post(f"{ISSUER}/api/qrcodes", json=CREATE, headers=origin)
    assert [a.status_code for a in (too_large, preflight, refused, created)] == [413, 204, 403, 201]
    for answer in (too_large, preflight, refused, created):
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert "access-control-allow-origin" not in too_large.headers
    assert "access-control-allow-origin" not in refused.headers
    for answer in (preflight, created):
        assert answer.headers["access-control-allow-origin"] == PUBLIC
        assert answer.headers["vary"] == "Origin"
    # The CORS headers come before the framing policy, as they always did.
    names = [name for name, _ in created.headers.multi_items()]
    assert names.index("access-control-allow-origin") < names.index("x-frame-options")
