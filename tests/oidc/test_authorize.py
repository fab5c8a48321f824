"""The authorization endpoint and the hosted page's response (OIDC Core §3.1.2, RFC 6749
§4.1.2): played over HTTP as the page's script does, with every bad request answered where the
specifications say (an error page while the client or redirect URI is in doubt, else a
redirect with ``error`` and ``state``)."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from minilogin.core.entities import Application, ApplicationType, IdentitySource
from minilogin.core.pkce import s256
from minilogin.core.tokens import digest
from minilogin.seed import DEMO_CONNECTION
from minilogin.wiring import Services
from tests.oidc.conftest import (
    ISSUER,
    SPA,
    SPA_CALLBACK,
    WEB,
    WEB_CALLBACK,
    WEB_SECRET,
    auth_params,
    form_of,
    hosted_login,
    request_id,
)
from tests.support.actors import Phone, decode_qr, scene_of
from tests.support.cli import run_minilogin
from tests.support.server import minilogin_dev

pytestmark = pytest.mark.usefixtures("relying_parties")


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def exchange(http: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await http.post(
        f"{ISSUER}/oidc/token", data={"grant_type": "authorization_code", **form}
    )


async def test_the_hosted_page_sends_code_state_and_iss_to_the_exact_redirect_uri(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    await phone.set_profile(phone="+8613500135001")
    params, verifier = auth_params()
    done = await hosted_login(http, phone, params, verifier)
    assert done.location.startswith(f"{SPA_CALLBACK}?")
    answer = done.params
    assert answer["state"] == params["state"]
    assert answer["iss"] == ISSUER
    response = await exchange(
        http,
        code=answer["code"],
        code_verifier=verifier,
        client_id=SPA,
        redirect_uri=SPA_CALLBACK,
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    keys = KeySet.import_key_set((await http.get(f"{ISSUER}/oidc/jwks")).json())
    claims: dict[str, Any] = jwt.decode(tokens["id_token"], keys).claims
    assert claims["aud"] == SPA
    assert claims["nonce"] == params["nonce"]
    assert claims["phone_number"] == "+8613500135001"
    assert tokens["refresh_token"]


async def test_the_code_needs_the_relying_partys_verifier_and_redirect_uri(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    params, verifier = auth_params()
    code = (await hosted_login(http, phone, params, verifier)).params["code"]
    without_redirect = await exchange(http, code=code, code_verifier=verifier, client_id=SPA)
    assert (without_redirect.status_code, without_redirect.json()["error"]) == (
        400,
        "invalid_grant",
    )

    params, verifier = auth_params()
    code = (await hosted_login(http, phone, params, verifier)).params["code"]
    other_verifier = await exchange(
        http, code=code, code_verifier="x" * 43, client_id=SPA, redirect_uri=SPA_CALLBACK
    )
    assert other_verifier.json()["error"] == "invalid_grant"


async def pkce_required(services: Services, client_id: str, required: bool) -> None:
    pool = await services.durable.get_pool("demo")
    assert pool is not None
    application = await services.durable.get_application(pool.id, client_id)
    assert application is not None
    application.pkce_required = required
    await services.durable.update_application(application)
    await services.config.changed()


async def test_a_confidential_client_must_send_pkce_too(http: httpx.AsyncClient) -> None:
    """OAuth 2.1 §4.1.1: a client secret does not excuse a client from PKCE."""
    params, _ = auth_params(WEB, code_challenge="", code_challenge_method="")
    response = await http.get(f"{ISSUER}/oidc/auth", params=params)
    assert response.status_code == 303
    answer = query(response.headers["location"])
    assert (answer["error"], answer["error_description"]) == (
        "invalid_request",
        "code_challenge (S256) is required",
    )


async def test_a_legacy_client_let_off_pkce_may_go_without_but_not_fake_it(
    http: httpx.AsyncClient, phone: Phone, services: Services
) -> None:
    await pkce_required(services, WEB, required=False)
    params, _ = auth_params(WEB, code_challenge="", code_challenge_method="")
    done = await hosted_login(http, phone, params, "")
    assert done.location.startswith(f"{WEB_CALLBACK}?")
    response = await http.post(
        f"{ISSUER}/oidc/token",
        data={
            "grant_type": "authorization_code",
            "code": done.params["code"],
            "redirect_uri": WEB_CALLBACK,
        },
        auth=(WEB, WEB_SECRET),
    )
    assert response.status_code == 200, response.text

    done = await hosted_login(http, phone, params, "")
    downgrade = await http.post(
        f"{ISSUER}/oidc/token",
        data={
            "grant_type": "authorization_code",
            "code": done.params["code"],
            "redirect_uri": WEB_CALLBACK,
            "code_verifier": "y" * 43,
        },
        auth=(WEB, WEB_SECRET),
    )
    assert downgrade.json()["error"] == "invalid_grant"

    # Required again: a code issued without a challenge meanwhile is refused.
    done = await hosted_login(http, phone, params, "")
    await pkce_required(services, WEB, required=True)
    late = await http.post(
        f"{ISSUER}/oidc/token",
        data={"grant_type": "authorization_code", "code": done.params["code"]},
        auth=(WEB, WEB_SECRET),
    )
    assert late.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge": "", "code_challenge_method": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": ""}, "unsupported_response_type"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "https://spa.example/r"}, "request_uri_not_supported"),
        ({"nonce": "n" * 600}, "invalid_request"),
    ],
)
async def test_bad_requests_of_a_known_client_go_back_with_error_and_state(
    http: httpx.AsyncClient, change: dict[str, str], error: str
) -> None:
    params, _ = auth_params()
    params = {k: v for k, v in {**params, **change}.items() if v != ""}
    response = await http.get(f"{ISSUER}/oidc/auth", params=params)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"{SPA_CALLBACK}?")
    assert query(location)["error"] == error
    assert query(location)["state"] == params["state"]
    assert query(location)["iss"] == ISSUER


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"client_id": "nobody"}, 404, "unknown_client"),
        ({"client_id": ""}, 400, "invalid_request"),
        ({"redirect_uri": "https://evil.example/callback"}, 400, "redirect_uri_mismatch"),
        ({"redirect_uri": SPA_CALLBACK + "/"}, 400, "redirect_uri_mismatch"),
        ({"redirect_uri": ""}, 400, "redirect_uri_required"),
    ],
)
async def test_while_client_or_redirect_uri_is_in_doubt_only_a_page_answers(
    http: httpx.AsyncClient, change: dict[str, str], status: int, code: str
) -> None:
    params, _ = auth_params()
    params = {k: v for k, v in {**params, **change}.items() if v != ""}
    response = await http.get(f"{ISSUER}/oidc/auth", params=params)
    assert response.status_code == status
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert f'data-testid="error">{code}<' in response.text
    assert "无法继续登录" in response.text


async def test_an_unknown_pool_has_no_hosted_page(http: httpx.AsyncClient) -> None:
    params, _ = auth_params()
    response = await http.get(f"{ISSUER}-nope/oidc/auth", params=params)
    assert response.status_code == 404
    assert "unknown_pool" in response.text


async def test_the_page_shows_the_pool_and_application_in_the_persons_language(
    http: httpx.AsyncClient,
) -> None:
    params, _ = auth_params(prompt="login")
    page = await http.get(f"{ISSUER}/oidc/auth", params=params)
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "minilogin 演示 / demo" in page.text
    assert "SPA relying party" in page.text
    assert '<html lang="zh-CN">' in page.text
    assert "<minilogin-login" in page.text
    english = await http.get(f"{ISSUER}/oidc/auth", params={**params, "ui_locales": "fr en"})
    assert '<html lang="en">' in english.text
    assert "Log in to" in english.text
    by_header = await http.get(
        f"{ISSUER}/oidc/auth", params=params, headers={"Accept-Language": "en-US,en;q=0.9"}
    )
    assert '<html lang="en">' in by_header.text
    hinted = await http.get(
        f"{ISSUER}/oidc/auth", params={**params, "connection": 'wechat-mp-qrcode"><script>'}
    )
    assert 'connection="wechat-mp-qrcode&#34;&gt;&lt;script&gt;"' in hinted.text


async def test_popup_mode_posts_the_response_to_the_redirect_uris_origin_only(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    params, verifier = auth_params(response_mode="web_message")
    page = await http.get(f"{ISSUER}/oidc/auth", params=params)
    created = await http.post(
        f"{ISSUER}/api/qrcodes",
        json={
            "client_id": SPA,
            "code_challenge": s256("p" * 43),
            "authorization_request": request_id(page.text),
        },
    )
    login = created.json()
    appid, scene = scene_of(decode_qr((await http.get(login["image_url"])).content))
    session = (await phone.scan(appid, scene)).json()["session"]
    await phone.confirm(appid, session)
    done = await http.post(
        f"{ISSUER}/oidc/auth/complete", data={"qrlogin": login["id"], "secret": login["secret"]}
    )
    assert done.status_code == 200
    match = re.search(r'id="authorization-response">(.*?)</script>', done.text)
    assert match
    data = json.loads(match.group(1))
    assert data["origin"] == "https://spa.example"
    assert data["response"]["state"] == params["state"]
    assert data["response"]["iss"] == ISSUER
    tokens = await exchange(
        http,
        code=data["response"]["code"],
        code_verifier=verifier,
        client_id=SPA,
        redirect_uri=SPA_CALLBACK,
    )
    assert tokens.status_code == 200


async def test_an_error_in_popup_mode_is_posted_too(http: httpx.AsyncClient) -> None:
    params, _ = auth_params(response_mode="web_message", prompt="none")
    response = await http.get(f"{ISSUER}/oidc/auth", params=params)
    assert response.status_code == 200
    assert '"error": "login_required"' in response.text
    assert '"origin": "https://spa.example"' in response.text


async def test_form_post_mode_posts_the_response_to_the_redirect_uri(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    """OAuth 2.0 Form Post Response Mode §2: the parameters as the fields of an HTML form that
    posts itself to the redirect URI, never in a URL."""
    params, verifier = auth_params(response_mode="form_post", state='st-"<&>')
    page = await http.get(f"{ISSUER}/oidc/auth", params=params)
    created = await http.post(
        f"{ISSUER}/api/qrcodes",
        json={
            "client_id": SPA,
            "code_challenge": s256("p" * 43),
            "authorization_request": request_id(page.text),
        },
    )
    login = created.json()
    appid, scene = scene_of(decode_qr((await http.get(login["image_url"])).content))
    session = (await phone.scan(appid, scene)).json()["session"]
    await phone.confirm(appid, session)
    done = await http.post(
        f"{ISSUER}/oidc/auth/complete", data={"qrlogin": login["id"], "secret": login["secret"]}
    )
    assert done.status_code == 200
    assert done.headers["cache-control"] == "no-store"
    form = form_of(done.text)
    assert (form.action, form.method) == (SPA_CALLBACK, "post")
    assert set(form.fields) == {"code", "state", "iss"}
    assert form.fields["state"] == params["state"], "escaped in the page, intact in the form"
    assert form.fields["iss"] == ISSUER
    assert any(".submit()" in script for script in form.scripts)
    tokens = await exchange(
        http,
        code=form.fields["code"],
        code_verifier=verifier,
        client_id=SPA,
        redirect_uri=SPA_CALLBACK,
    )
    assert tokens.status_code == 200, tokens.text


async def test_errors_and_cancelling_in_form_post_mode_are_posted_too(
    http: httpx.AsyncClient,
) -> None:
    params, _ = auth_params(response_mode="form_post", prompt="none")
    form = form_of((await http.get(f"{ISSUER}/oidc/auth", params=params)).text)
    assert form.action == SPA_CALLBACK
    assert form.fields["error"] == "login_required"
    assert form.fields["state"] == params["state"]
    params, _ = auth_params(response_mode="form_post")
    ar = request_id((await http.get(f"{ISSUER}/oidc/auth", params=params)).text)
    cancelled = await http.get(f"{ISSUER}/oidc/auth/cancel", params={"request": ar})
    form = form_of(cancelled.text)
    assert (form.action, form.fields["error"]) == (SPA_CALLBACK, "access_denied")


async def test_form_post_needs_a_redirect_uri(http: httpx.AsyncClient) -> None:
    params, _ = auth_params(response_mode="form_post", redirect_uri="https://evil.example/cb")
    response = await http.get(f"{ISSUER}/oidc/auth", params=params)
    assert response.status_code == 400
    assert "<form" not in response.text


async def test_a_qr_login_can_only_name_a_live_request_of_its_own_client(
    http: httpx.AsyncClient,
) -> None:
    params, _ = auth_params()
    ar = request_id((await http.get(f"{ISSUER}/oidc/auth", params=params)).text)
    for client_id, name in (("demo", ar), (SPA, "ar_unknown"), (SPA, "")):
        response = await http.post(
            f"{ISSUER}/api/qrcodes",
            json={
                "client_id": client_id,
                "code_challenge": s256("p" * 43),
                "authorization_request": name,
            },
        )
        assert response.status_code == 404, (client_id, name)
        assert response.json()["error"] == "authorization_request_not_found"


async def test_completing_needs_the_secret_and_an_authorized_login(
    http: httpx.AsyncClient,
) -> None:
    params, _ = auth_params()
    ar = request_id((await http.get(f"{ISSUER}/oidc/auth", params=params)).text)
    login = (
        await http.post(
            f"{ISSUER}/api/qrcodes",
            json={"client_id": SPA, "code_challenge": s256("p" * 43), "authorization_request": ar},
        )
    ).json()
    wrong = await http.post(
        f"{ISSUER}/oidc/auth/complete", data={"qrlogin": login["id"], "secret": "x"}
    )
    assert wrong.status_code == 401
    early = await http.post(
        f"{ISSUER}/oidc/auth/complete", data={"qrlogin": login["id"], "secret": login["secret"]}
    )
    assert early.status_code == 409
    assert "qrlogin_pending" in early.text
    unbound = (
        await http.post(
            f"{ISSUER}/api/qrcodes", json={"client_id": SPA, "code_challenge": s256("p" * 43)}
        )
    ).json()
    answer = await http.post(
        f"{ISSUER}/oidc/auth/complete", data={"qrlogin": unbound["id"], "secret": unbound["secret"]}
    )
    assert answer.status_code == 404
    missing = await http.post(f"{ISSUER}/oidc/auth/complete", data={})
    assert missing.status_code == 400


async def test_cancelling_answers_access_denied(http: httpx.AsyncClient) -> None:
    params, _ = auth_params()
    ar = request_id((await http.get(f"{ISSUER}/oidc/auth", params=params)).text)
    response = await http.get(f"{ISSUER}/oidc/auth/cancel", params={"request": ar})
    assert response.status_code == 303
    assert query(response.headers["location"])["error"] == "access_denied"
    assert query(response.headers["location"])["state"] == params["state"]
    gone = await http.get(f"{ISSUER}/oidc/auth/cancel", params={"request": "ar_nope"})
    assert gone.status_code == 404


async def test_without_a_redirect_uri_the_identity_sources_callback_url_gets_the_code(
    http: httpx.AsyncClient, phone: Phone, services: Services
) -> None:
    """Issue 3's Callback URL: only a one-time code arrives there, for the backend to exchange
    with its client credentials."""
    pool = await services.durable.get_pool("demo")
    assert pool is not None
    await services.durable.create_identity_source(
        IdentitySource(
            pool_id=pool.id,
            unique_id="wechat-callback",
            display_name="微信扫码",
            callback_url="https://site.example/wechat/callback",
        )
    )
    await services.durable.create_application(
        Application(
            pool_id=pool.id,
            client_id="site",
            name="Site",
            type=ApplicationType.WEB,
            client_secret_hash=digest("site-secret"),
        )
    )
    await services.durable.enable_identity_source(pool.id, "site", "wechat-callback")
    verifier = "v" * 43
    params = {
        "response_type": "code",
        "client_id": "site",
        "scope": "openid phone",
        "state": "s1",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    done = await hosted_login(http, phone, params, verifier)
    assert done.location.startswith("https://site.example/wechat/callback?")
    assert set(done.params) == {"code", "state", "iss"}
    response = await http.post(
        f"{ISSUER}/oidc/token",
        data={
            "grant_type": "authorization_code",
            "code": done.params["code"],
            "code_verifier": verifier,
        },
        auth=("site", "site-secret"),
    )
    assert response.status_code == 200, response.text


async def test_discovery_lists_what_the_provider_supports(http: httpx.AsyncClient) -> None:
    meta = (await http.get(f"{ISSUER}/.well-known/openid-configuration")).json()
    assert meta["authorization_endpoint"] == f"{ISSUER}/oidc/auth"
    assert meta["revocation_endpoint"] == f"{ISSUER}/oidc/revoke"
    assert meta["introspection_endpoint"] == f"{ISSUER}/oidc/introspect"
    assert meta["end_session_endpoint"] == f"{ISSUER}/oidc/session/end"
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert meta["response_modes_supported"] == ["query", "web_message", "form_post"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert "login" in meta["prompt_values_supported"]


async def test_the_connections_of_an_application_are_public_to_its_origins(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get(
        f"{ISSUER}/api/applications/{SPA}/connections", headers={"Origin": "https://spa.example"}
    )
    assert response.json() == [{"unique_id": "wechat-mp-qrcode", "display_name": "微信扫码登录"}]
    assert response.headers["access-control-allow-origin"] == "https://spa.example"
    foreign = await http.get(
        f"{ISSUER}/api/applications/{SPA}/connections", headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in foreign.headers
    missing = await http.get(f"{ISSUER}/api/applications/nobody/connections")
    assert (missing.status_code, missing.json()["error"]) == (404, "unknown_client")


# ---- the cap on pending requests, on a real server (issue 13) ------------------------------

PENDING_CAP = 3
CONFIG_CACHE_TTL = 1.0


def demo_params(public: str, **extra: str) -> tuple[dict[str, str], str]:
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": "demo",
        "redirect_uri": f"{public}/demo/callback",
        "scope": "openid phone",
        "state": "st-" + secrets.token_urlsafe(6),
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        **extra,
    }
    return params, verifier


async def complete_on_the_page(
    web: httpx.AsyncClient, public: str, issuer: str, page: str, user: str
) -> str:
    """Log in on an open hosted page as its component does: the code it sends back."""
    page_verifier = secrets.token_urlsafe(48)
    created = await web.post(
        f"{issuer}/api/qrcodes",
        json={
            "client_id": "demo",
            "code_challenge": s256(page_verifier),
            "code_challenge_method": "S256",
            "authorization_request": request_id(page),
        },
    )
    assert created.status_code == 201, created.text
    login = created.json()
    appid, scene = scene_of(decode_qr((await web.get(login["image_url"])).content))
    phone = Phone(web, public, user)
    session = (await phone.scan(appid, scene)).json()["session"]
    assert (await phone.confirm(appid, session)).status_code == 200
    done = await web.post(
        f"{issuer}/oidc/auth/complete", data={"qrlogin": login["id"], "secret": login["secret"]}
    )
    assert done.status_code == 303, done.text
    return query(done.headers["location"])["code"]


@pytest.mark.slow
async def test_pending_requests_are_capped_and_a_login_goes_through_once_room_frees(
    tmp_path: Path,
) -> None:
    env = {
        "MINILOGIN_MAX_PENDING_AUTHORIZATIONS": str(PENDING_CAP),
        "MINILOGIN_RATE_LIMIT_SCALE": "0",
        "MINILOGIN_CONFIG_CACHE_TTL": str(CONFIG_CACHE_TTL),
    }
    with minilogin_dev(tmp_path, **env) as server:
        issuer, public = server.issuer(), server.public
        # A Callback URL: requests without a redirect_uri are valid too.
        updated = run_minilogin(
            "admin", "update-source", "demo", DEMO_CONNECTION,
            "--callback-url", f"{public}/demo/callback", data_dir=tmp_path, **env,
        )  # fmt: skip
        assert updated.returncode == 0, updated.stderr
        async with httpx.AsyncClient(timeout=30) as web:
            await asyncio.sleep(CONFIG_CACHE_TTL)  # the change reaches the server
            mine, _ = demo_params(public)
            first = await web.get(f"{issuer}/oidc/auth", params=mine)
            assert first.status_code == 200, first.text

            # The flood: many at once, then one by one until refused.
            flood = await asyncio.gather(
                *(web.get(f"{issuer}/oidc/auth", params=demo_params(public)[0]) for _ in range(20))
            )
            accepted = [page for page in flood if page.status_code == 200]
            assert len(accepted) <= PENDING_CAP - 1
            while len(accepted) < PENDING_CAP - 1:
                page = await web.get(f"{issuer}/oidc/auth", params=demo_params(public)[0])
                assert page.status_code == 200, page.text
                accepted.append(page)
            refused = [page for page in flood if page.status_code != 200]
            assert refused
            for page in refused:
                # RFC 6749 §4.1.2.1: back to the client, with its state.
                assert page.status_code == 303, page.text
                answer = query(page.headers["location"])
                assert answer["error"] == "temporarily_unavailable"
                assert answer["state"].startswith("st-")

            # Full: another person's request is refused too, on the page when the response
            # has no target yet.
            theirs, their_verifier = demo_params(public)
            full = await web.get(f"{issuer}/oidc/auth", params=theirs)
            assert query(full.headers["location"])["error"] == "temporarily_unavailable"
            no_target = {k: v for k, v in theirs.items() if k != "redirect_uri"}
            page_503 = await web.get(f"{issuer}/oidc/auth", params=no_target)
            assert page_503.status_code == 503, page_503.text
            assert page_503.headers["retry-after"] == "60"

            # The first request ends with its response: room for the other person's.
            await complete_on_the_page(web, public, issuer, first.text, "first")
            again = await web.get(f"{issuer}/oidc/auth", params=theirs)
            assert again.status_code == 200, again.text
            code = await complete_on_the_page(web, public, issuer, again.text, "second")
            tokens = await web.post(
                f"{issuer}/oidc/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": theirs["redirect_uri"],
                    "client_id": "demo",
                    "code_verifier": their_verifier,
                },
            )
            assert tokens.status_code == 200, tokens.text
            assert "id_token" in tokens.json()
            # Its request ended as well: one place, and then none.
            opened = await web.get(f"{issuer}/oidc/auth", params=demo_params(public)[0])
            assert opened.status_code == 200, opened.text
            refused_again = await web.get(f"{issuer}/oidc/auth", params=demo_params(public)[0])
            assert refused_again.status_code == 303
        assert "500 Internal Server Error" not in server.log.read_text()
