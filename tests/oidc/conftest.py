"""Relying parties registered in the demo pool for the provider's tests, and the hosted page's
login played over HTTP: what its script does (create a QR login bound to the authorization
request, hand it over once authorized) with the phone in the sandbox."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from minilogin.core.entities import Application, ApplicationType
from minilogin.core.pkce import s256
from minilogin.core.tokens import digest
from minilogin.seed import DEMO_CONNECTION
from minilogin.wiring import Services
from tests.conftest import PUBLIC
from tests.support.actors import Phone, decode_qr, scene_of

ISSUER = f"{PUBLIC}/pools/demo"
SPA = "spa-rp"
WEB = "web-rp"
WEB_SECRET = "web-rp-secret-0123456789"
SPA_CALLBACK = "https://spa.example/callback"
WEB_CALLBACK = "https://web.example/auth/callback"
LOGGED_OUT = "https://web.example/bye"


async def register(services: Services) -> None:
    pool = await services.pools.get_pool("demo")
    assert pool is not None
    for application in (
        Application(
            pool_id=pool.id,
            client_id=SPA,
            name="SPA relying party",
            type=ApplicationType.SPA,
            redirect_uris=[SPA_CALLBACK],
            web_origins=["https://spa.example"],
            post_logout_redirect_uris=["https://spa.example/"],
        ),
        Application(
            pool_id=pool.id,
            client_id=WEB,
            name="Web relying party",
            type=ApplicationType.WEB,
            redirect_uris=[WEB_CALLBACK],
            post_logout_redirect_uris=[LOGGED_OUT],
            client_secret_hash=digest(WEB_SECRET),
        ),
    ):
        await services.applications.create_application(application)
        await services.identity_sources.enable_identity_source(
            pool.id, application.client_id, DEMO_CONNECTION
        )


@pytest.fixture
async def relying_parties(services: Services) -> None:
    await register(services)


@dataclass
class Authorization:
    """A finished hosted-page login: where the browser was sent, and the PKCE verifier."""

    location: str
    verifier: str

    @property
    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}


def auth_params(client_id: str = SPA, **extra: str) -> tuple[dict[str, str], str]:
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": SPA_CALLBACK if client_id == SPA else WEB_CALLBACK,
        "scope": "openid profile phone",
        "state": "st-" + secrets.token_urlsafe(6),
        "nonce": "n-" + secrets.token_urlsafe(6),
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v != ""}, verifier


def request_id(page: str) -> str:
    match = re.search(r'authorization-request="(ar_[^"]+)"', page)
    assert match, "the hosted page names its authorization request"
    return match.group(1)


async def hosted_login(
    http: httpx.AsyncClient, phone: Phone, params: dict[str, str], verifier: str
) -> Authorization:
    """Open the hosted page, log in on it as its component does, and follow it back out."""
    page = await http.get(f"{ISSUER}/oidc/auth", params=params)
    assert page.status_code == 200, page.text
    page_verifier = secrets.token_urlsafe(48)
    created = await http.post(
        f"{ISSUER}/api/qrcodes",
        json={
            "client_id": params["client_id"],
            "code_challenge": s256(page_verifier),
            "code_challenge_method": "S256",
            "authorization_request": request_id(page.text),
        },
    )
    assert created.status_code == 201, created.text
    login: dict[str, Any] = created.json()
    appid, scene = scene_of(decode_qr((await http.get(login["image_url"])).content))
    session = (await phone.scan(appid, scene)).json()["session"]
    assert (await phone.confirm(appid, session)).status_code == 200
    done = await http.post(
        f"{ISSUER}/oidc/auth/complete", data={"qrlogin": login["id"], "secret": login["secret"]}
    )
    assert done.status_code == 303, done.text
    return Authorization(done.headers["location"], verifier)


async def spa_tokens(http: httpx.AsyncClient, phone: Phone, **extra: str) -> dict[str, Any]:
    """Tokens of a hosted-page login of the SPA relying party."""
    params, verifier = auth_params(**extra)
    done = await hosted_login(http, phone, params, verifier)
    response = await http.post(
        f"{ISSUER}/oidc/token",
        data={
            "grant_type": "authorization_code",
            "code": done.params["code"],
            "code_verifier": verifier,
            "client_id": SPA,
            "redirect_uri": SPA_CALLBACK,
        },
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def refresh(
    http: httpx.AsyncClient, token: str, client_id: str = SPA, **extra: str
) -> httpx.Response:
    return await http.post(
        f"{ISSUER}/oidc/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_id": client_id,
            **extra,
        },
    )


async def userinfo_status(http: httpx.AsyncClient, access_token: str) -> int:
    response = await http.get(
        f"{ISSUER}/oidc/userinfo", headers={"Authorization": f"Bearer {access_token}"}
    )
    return response.status_code


class _Form(HTMLParser):
    """The form of a form_post page: where it posts, its fields, and whether a script sends it."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.method = ""
        self.fields: dict[str, str] = {}
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action, self.method = values["action"], values["method"]
        elif tag == "input" and values.get("type") == "hidden":
            self.fields[values["name"]] = values["value"]
        self._in_script = tag == "script"

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def form_of(page: str) -> _Form:
    form = _Form()
    form.feed(page)
    return form
