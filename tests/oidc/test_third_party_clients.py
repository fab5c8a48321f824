"""The provider driven by OpenID Connect client libraries it has never seen, against a real
``minilogin dev`` process: Authlib (Python) and openid-client (Node, installed from
``tests/oidc/clients/package-lock.json``). Each goes through discovery, the authorization code
with PKCE, ID-token validation against the JWKS under RS256 and under ES256 (each application
registered with its own ``id_token_signed_response_alg``), UserInfo, a refresh, a revocation
and RP-initiated logout. The person's part, between the authorization request and the
callback, is played over HTTP: the hosted page's QR login, scanned and allowed with the
sandbox's simulated phone."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import shutil
import subprocess
from asyncio.subprocess import Process
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.integrations.starlette_client import OAuth

from minilogin.core.pkce import s256
from minilogin.seed import DEMO_CONNECTION
from tests.oidc.conftest import form_of, request_id
from tests.support.actors import Phone, decode_qr, scene_of
from tests.support.server import RunningServer, minilogin_dev

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "third-party-clients-admin-token"
CLIENTS = Path(__file__).parent / "clients"
# Never served: the tests read where the provider sends the browser instead of following it.
RP = "http://127.0.0.1:9"
ALGORITHMS = ("RS256", "ES256")


@dataclass
class Registered:
    client_id: str
    client_secret: str | None
    redirect_uri: str
    logged_out: str


@dataclass
class Provider:
    server: RunningServer
    apps: dict[tuple[str, str], Registered]

    @property
    def issuer(self) -> str:
        return self.server.issuer()


def register(admin: httpx.Client, library: str, alg: str) -> Registered:
    """A relying party for ``library`` whose ID tokens are signed with ``alg``: a web
    application (client secret) for Authlib, a single page app (PKCE only) for openid-client."""
    redirect_uri = f"{RP}/{library}/{alg}/callback"
    logged_out = f"{RP}/{library}/{alg}/bye"
    created = admin.post(
        "/pools/demo/applications",
        json={
            "name": f"{library} {alg}",
            "type": "web" if library == "authlib" else "spa",
            "redirect_uris": [redirect_uri],
            "post_logout_redirect_uris": [logged_out],
            "id_token_signed_response_alg": alg,
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    switched = admin.put(
        f"/pools/demo/applications/{body['client_id']}/connections/{DEMO_CONNECTION}"
    )
    assert switched.status_code == 204, switched.text
    return Registered(body["client_id"], body.get("client_secret"), redirect_uri, logged_out)


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with minilogin_dev(
        tmp_path_factory.mktemp("clients"), MINILOGIN_ADMIN_TOKEN=ADMIN_TOKEN
    ) as server:
        with httpx.Client(
            base_url=f"{server.public}/admin/api",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as admin:
            apps = {
                (library, alg): register(admin, library, alg)
                for library in ("authlib", "openid-client")
                for alg in ALGORITHMS
            }
        yield Provider(server, apps)


@pytest.fixture(scope="module")
def node_client() -> Path:
    """openid-client, installed exactly as the lock file says (``npm ci``) when it is not yet."""
    assert shutil.which("node"), "node is needed"
    assert shutil.which("npm"), "npm is needed"
    if not (CLIENTS / "node_modules" / "openid-client").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENTS, check=True, timeout=300
        )
    return CLIENTS / "openid_client.mjs"


async def log_in(
    http: httpx.AsyncClient, issuer: str, phone: Phone, authorization_url: str
) -> httpx.Response:
    """What the person does between the relying party's redirect and its callback: open the
    hosted page, whose component makes a QR login bound to the request, scan and allow it on
    the phone; the page then hands the login over. Answers the authorization response."""
    page = await http.get(authorization_url)
    assert page.status_code == 200, page.text
    client_id = parse_qs(urlsplit(authorization_url).query)["client_id"][0]
    created = await http.post(
        f"{issuer}/api/qrcodes",
        json={
            "client_id": client_id,
            "code_challenge": s256(secrets.token_urlsafe(48)),
            "authorization_request": request_id(page.text),
        },
    )
    assert created.status_code == 201, created.text
    login = created.json()
    appid, scene = scene_of(decode_qr((await http.get(login["image_url"])).content))
    session = (await phone.scan(appid, scene)).json()["session"]
    assert (await phone.confirm(appid, session, nickname="Interop")).status_code == 200
    return await http.post(
        f"{issuer}/oidc/auth/complete", data={"qrlogin": login["id"], "secret": login["secret"]}
    )


async def jwks(http: httpx.AsyncClient, issuer: str) -> dict[str, dict[str, Any]]:
    keys = (await http.get(f"{issuer}/oidc/jwks")).json()["keys"]
    return {key["kid"]: key for key in keys}


KTY = {"RS256": "RSA", "ES256": "EC"}


def header_of(jwt: str) -> dict[str, Any]:
    part = jwt.split(".")[0]
    header: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return header


@pytest.mark.parametrize("alg", ALGORITHMS)
async def test_authlib(provider: Provider, alg: str) -> None:
    app = provider.apps[("authlib", alg)]
    issuer = provider.issuer
    oauth = OAuth()
    rp = oauth.register(
        name=f"minilogin-{alg}",
        client_id=app.client_id,
        client_secret=app.client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile phone", "code_challenge_method": "S256"},
    )
    async with httpx.AsyncClient() as http:
        phone = Phone(http, provider.server.public, f"authlib-{alg.lower()}")
        await phone.set_profile(phone="+8613900139001")
        request = await rp.create_authorization_url(app.redirect_uri)
        done = await log_in(http, issuer, phone, request["url"])
        assert done.status_code == 303, done.text
        answer = {k: v[0] for k, v in parse_qs(urlsplit(done.headers["location"]).query).items()}
        assert done.headers["location"].startswith(f"{app.redirect_uri}?")
        assert (answer["state"], answer["iss"]) == (request["state"], issuer)

        token = await rp.fetch_access_token(
            redirect_uri=app.redirect_uri,
            code=answer["code"],
            code_verifier=request["code_verifier"],
        )
        # Authlib checks the signature against the JWKS, iss, aud, exp, nonce and at_hash.
        user = await rp.parse_id_token(token, request["nonce"])
        assert user["phone_number"] == "+8613900139001"
        header = header_of(token["id_token"])
        keys = await jwks(http, issuer)
        assert header["alg"] == alg
        assert keys[header["kid"]]["kty"] == KTY[alg]
        info = await rp.userinfo(token=token)
        assert info["sub"] == user["sub"]

        async with AsyncOAuth2Client(
            app.client_id, app.client_secret, token_endpoint_auth_method="client_secret_basic"
        ) as session:
            refreshed = await session.refresh_token(
                f"{issuer}/oidc/token", refresh_token=token["refresh_token"]
            )
            assert refreshed["refresh_token"] != token["refresh_token"], "rotated"
            again = await rp.parse_id_token(refreshed, None)
            assert again["sub"] == user["sub"]
            revoked = await session.revoke_token(
                f"{issuer}/oidc/revoke",
                token=refreshed["refresh_token"],
                token_type_hint="refresh_token",
            )
            assert revoked.status_code == 200
            dead = await http.post(
                f"{issuer}/oidc/token",
                data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
                auth=(app.client_id, app.client_secret or ""),
            )
            assert (dead.status_code, dead.json()["error"]) == (400, "invalid_grant")

        logout = await rp.create_logout_url(
            post_logout_redirect_uri=app.logged_out, id_token_hint=refreshed["id_token"]
        )
        bye = await http.get(logout["url"])
        assert bye.status_code == 303, bye.text
        assert bye.headers["location"] == f"{app.logged_out}?state={logout['state']}"


async def start_node(script: Path, app: Registered, issuer: str, alg: str) -> Process:
    return await asyncio.create_subprocess_exec(
        "node",
        str(script),
        issuer,
        app.client_id,
        alg,
        app.redirect_uri,
        app.logged_out,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def node_callback(
    node: Process, http: httpx.AsyncClient, provider: Provider, app: Registered, user: str
) -> bytes:
    """The node client's authorization request, the login, the form_post callback handed to
    it; answers its next line (empty when it failed)."""
    assert node.stdin is not None
    assert node.stdout is not None
    phone = Phone(http, provider.server.public, user)
    await phone.set_profile(phone="+8613900139002")
    first = await asyncio.wait_for(node.stdout.readline(), 30)
    assert first, await stderr_of(node)
    authorize = json.loads(first)
    assert authorize["step"] == "authorize"
    assert "response_mode=form_post" in authorize["url"]
    done = await log_in(http, provider.issuer, phone, authorize["url"])
    assert done.status_code == 200, done.text
    form = form_of(done.text)
    assert form.action == app.redirect_uri
    node.stdin.write(json.dumps({"form": form.fields}).encode() + b"\n")
    await node.stdin.drain()
    return await asyncio.wait_for(node.stdout.readline(), 30)


async def stderr_of(node: Process) -> str:
    assert node.stderr is not None
    return (await node.stderr.read()).decode()


@pytest.mark.parametrize("alg", ALGORITHMS)
async def test_openid_client(provider: Provider, node_client: Path, alg: str) -> None:
    app = provider.apps[("openid-client", alg)]
    issuer = provider.issuer
    node = await start_node(node_client, app, issuer, alg)
    try:
        async with httpx.AsyncClient() as http:
            last = await node_callback(node, http, provider, app, f"node-{alg.lower()}")
            assert last, await stderr_of(node)
            result = json.loads(last)
            keys = await jwks(http, issuer)
            for header in (result["id_token_header"], result["refreshed_header"]):
                assert header["alg"] == alg
                assert keys[header["kid"]]["kty"] == KTY[alg]
            assert result["claims"]["phone_number"] == "+8613900139002"
            assert result["claims"]["aud"] == app.client_id
            assert result["userinfo"]["sub"] == result["claims"]["sub"]
            assert result["refreshed_claims"]["sub"] == result["claims"]["sub"]
            assert result["rotated"] is True
            assert result["after_revocation"] == "invalid_grant"

            bye = await http.get(result["logout_url"])
            assert bye.status_code == 303, bye.text
            assert bye.headers["location"] == f"{app.logged_out}?state=bye"
        assert await asyncio.wait_for(node.wait(), 30) == 0, await stderr_of(node)
    finally:
        await stop(node)


async def stop(node: Process) -> None:
    if node.returncode is None:
        node.kill()
        await node.wait()


async def test_openid_client_refuses_an_id_token_in_another_algorithm(
    provider: Provider, node_client: Path
) -> None:
    """The application is registered for RS256 while the client expects ES256: the library
    sees the mismatch, which shows its check is made (and so passes above for real)."""
    app = provider.apps[("openid-client", "RS256")]
    node = await start_node(node_client, app, provider.issuer, "ES256")
    try:
        async with httpx.AsyncClient() as http:
            assert await node_callback(node, http, provider, app, "node-mismatch") == b""
        assert await asyncio.wait_for(node.wait(), 30) != 0
        assert '"alg"' in await stderr_of(node)
    finally:
        await stop(node)
