"""A small relying party: a server-side web app that logs in through a minilogin pool with a
standard OpenID Connect client (Authlib), configured from discovery alone.

Authlib fetches ``{issuer}/.well-known/openid-configuration``, sends the person to the hosted
login page (authorization code flow with PKCE and a nonce), exchanges the code with the app's
client secret, and validates the ID token on this backend: its ES256 signature against the
pool's JWKS, ``iss``, ``aud``, ``exp`` and ``nonce``. Only then does the session hold the user.

Run it from the repository's root beside ``minilogin dev`` (its demo pool): install its
dependencies (the ``examples`` extra), register it as a "web" application whose redirect URI is
``{RP_URL}/callback`` and post-logout redirect URI ``{RP_URL}/``, switch the identity source on
for it, and start it with the ``client_id`` and ``client_secret`` that ``create-app`` printed
in place of ``<client_id>`` and ``<client_secret>``::

    make install-examples
    .venv/bin/minilogin admin create-app demo "Example site" --type web \\
        --redirect-uri http://127.0.0.1:5000/callback \\
        --post-logout-redirect-uri http://127.0.0.1:5000/
    .venv/bin/minilogin admin enable-source demo <client_id> wechat-mp-qrcode
    RP_ISSUER=http://127.0.0.1:8000/pools/demo RP_CLIENT_ID=<client_id> \\
        RP_CLIENT_SECRET=<client_secret> RP_URL=http://127.0.0.1:5000 \\
        .venv/bin/uvicorn --factory examples.relying_party.app:from_environment --port 5000

``tests/examples/test_relying_party.py`` runs exactly these commands.
"""

from __future__ import annotations

import html
import json
import os
import secrets
from urllib.parse import urlencode

from authlib.integrations.starlette_client import OAuth
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Relying party example</title></head>
<body style="font: 15px system-ui, sans-serif; max-width: 640px; margin: 40px auto">
<h1>示例网站 · Example site</h1>
{body}
</body></html>"""


def create_app(
    issuer: str, client_id: str, client_secret: str, public_url: str, session_secret: str
) -> Starlette:
    oauth = OAuth()
    oauth.register(
        name="minilogin",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile phone", "code_challenge_method": "S256"},
    )
    client = oauth.create_client("minilogin")

    async def home(request: Request) -> Response:
        user = request.session.get("user")
        if user is None:
            body = '<p><a data-testid="login" href="/login">用微信扫码登录 · Log in</a></p>'
        else:
            claims = html.escape(json.dumps(user, ensure_ascii=False, indent=2))
            body = (
                f'<p data-testid="welcome">你好 {html.escape(user.get("phone_number", ""))}</p>'
                f'<pre data-testid="claims">{claims}</pre>'
                '<p><a data-testid="logout" href="/logout">退出 · Log out</a></p>'
            )
        return HTMLResponse(PAGE.format(body=body))

    async def login(request: Request) -> Response:
        response: Response = await client.authorize_redirect(
            request, f"{public_url}/callback", nonce=secrets.token_urlsafe(16)
        )
        return response

    async def callback(request: Request) -> Response:
        # Exchanges the code and validates the ID token (signature, iss, aud, exp, nonce).
        token = await client.authorize_access_token(request)
        request.session["user"] = dict(token["userinfo"])
        request.session["id_token"] = token["id_token"]
        return RedirectResponse("/", 303)

    async def logout(request: Request) -> Response:
        id_token = request.session.pop("id_token", None)
        request.session.clear()
        metadata = await client.load_server_metadata()
        params = {"post_logout_redirect_uri": f"{public_url}/", "client_id": client_id}
        if id_token:
            params["id_token_hint"] = id_token
        return RedirectResponse(f"{metadata['end_session_endpoint']}?{urlencode(params)}", 303)

    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login),
            Route("/callback", callback),
            Route("/logout", logout),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=session_secret, https_only=False)],
    )


def from_environment() -> Starlette:
    return create_app(
        issuer=os.environ["RP_ISSUER"],
        client_id=os.environ["RP_CLIENT_ID"],
        client_secret=os.environ["RP_CLIENT_SECRET"],
        public_url=os.environ.get("RP_URL", "http://127.0.0.1:5000"),
        session_secret=os.environ.get("RP_SESSION_SECRET", secrets.token_urlsafe(32)),
    )
