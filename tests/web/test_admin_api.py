"""The admin API (API.md §6), driven over HTTP as a script or the console drives it: pools,
applications, identity sources and their logos, users, the dashboard and the audit log, with
every bad value answered by a clear 4xx; and the console's session, CSRF and rate limits."""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from tests.conftest import PUBLIC, Clock, sandbox_settings
from tests.support.actors import Browser, BrowserLogin, Phone, decode_qr, scene_of

from minilogin.admin import Actor, access
from minilogin.config import Settings
from minilogin.web.admin_ports import access_ports
from minilogin.wiring import Services

ADMIN_TOKEN = "settings-admin-token-for-tests"
API = f"{PUBLIC}/admin/api"
LOGO_RED = (220, 20, 60)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sandbox_settings(PUBLIC, tmp_path, admin_token=ADMIN_TOKEN)


@pytest.fixture
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A script holding ``MINILOGIN_ADMIN_TOKEN``."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.4", 40000))
    async with httpx.AsyncClient(
        transport=transport,
        base_url=API,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ) as client:
        yield client


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return None if status == 204 else response.json()


def refused(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["message"]


def png(size: tuple[int, int] = (200, 200), colour: tuple[int, int, int] = LOGO_RED) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims ``width``×``height`` pixels: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


async def new_pool(admin: httpx.AsyncClient, slug: str = "acme") -> dict[str, Any]:
    body: dict[str, Any] = ok(await admin.post("/pools", json={"slug": slug, "name": "Acme"}), 201)
    return body


async def new_source(admin: httpx.AsyncClient, pool: str = "acme", **fields: Any) -> dict[str, Any]:
    body = {"unique_id": "wechat-pc", "display_name": "微信扫码登录", **fields}
    created: dict[str, Any] = ok(await admin.post(f"/pools/{pool}/connections", json=body), 201)
    return created


async def new_app(admin: httpx.AsyncClient, pool: str = "acme", **fields: Any) -> dict[str, Any]:
    body = {"name": "Shop", "web_origins": [PUBLIC.replace("http:", "https:")], **fields}
    created: dict[str, Any] = ok(await admin.post(f"/pools/{pool}/applications", json=body), 201)
    return created


async def enable(admin: httpx.AsyncClient, client_id: str, unique_id: str = "wechat-pc") -> None:
    ok(await admin.put(f"/pools/acme/applications/{client_id}/connections/{unique_id}"), 204)


async def log_in(
    browser: Browser, phone: Phone, number: str = "+8613800138000", **extra: Any
) -> tuple[BrowserLogin, dict[str, Any]]:
    """A whole QR login up to ``authorized``: the status body holds the code."""
    login = await browser.create(**extra)
    appid, scene = await browser.read_code(login)
    await phone.set_profile(phone=number)
    scanned = await phone.scan(appid, scene)
    assert scanned.status_code == 200, scanned.text
    confirmed = await phone.confirm(appid, scanned.json()["session"])
    assert confirmed.json() == {"status": "authorized"}, confirmed.text
    return login, await browser.status(login)


# authentication


async def test_without_a_valid_token_nothing_is_answered(http: httpx.AsyncClient) -> None:
    refused(await http.get(f"{API}/pools"), 401, "unauthorized")
    refused(
        await http.get(f"{API}/pools", headers={"Authorization": "Bearer wrong"}),
        401,
        "unauthorized",
    )
    refused(
        await http.get(f"{API}/pools", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}),
        401,
        "unauthorized",
    )
    refused(await http.post(f"{API}/pools", json={"slug": "x", "name": "x"}), 401, "unauthorized")


async def test_an_api_token_acts_as_its_administrator(
    http: httpx.AsyncClient, services: Services
) -> None:
    cli = Actor("cli:test")
    await access.create_admin(access_ports(services), cli, "boss", "correct horse battery")
    token = await access.create_api_token(access_ports(services), cli, "boss", "deploy script")
    assert token.startswith("mla_")
    headers = {"Authorization": f"Bearer {token}"}
    ok(await http.post(f"{API}/pools", json={"slug": "acme", "name": "Acme"}, headers=headers), 201)
    unowned = await access.create_api_token(access_ports(services), cli, None, "automation")
    ok(
        await http.patch(
            f"{API}/pools/acme",
            json={"name": "ACME"},
            headers={"Authorization": f"Bearer {unowned}"},
        )
    )
    events = ok(await http.get(f"{API}/pools/acme/audit", headers=headers))["events"]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("admin.pool.updated", events[0]["actor"]),
        ("admin.pool.created", "boss"),
    ]
    assert events[0]["actor"].startswith("token:")
    assert events[0]["detail"] == {"changed": ["name"]}
    assert events[1]["ip"] == "203.0.113.7"


async def test_malformed_json_is_refused(admin: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/json"}
    refused(await admin.post("/pools", content=b"{not json", headers=headers), 400, "invalid_json")
    refused(await admin.post("/pools", content=b"[1, 2]", headers=headers), 400, "invalid_json")
    refused(await admin.post("/pools", content=b"", headers=headers), 400, "invalid_json")
    big = b'{"name": "' + b"x" * 70_000 + b'"}'
    refused(await admin.post("/pools", content=big, headers=headers), 413, "payload_too_large")


# pools


async def test_pools_are_created_listed_changed_and_deleted(admin: httpx.AsyncClient) -> None:
    pool = await new_pool(admin)
    assert pool["issuer"] == f"{PUBLIC}/pools/acme"
    assert [p["slug"] for p in ok(await admin.get("/pools"))["pools"]] == ["demo", "acme"]
    refused(await admin.post("/pools", json={"slug": "acme", "name": "Again"}), 409, "pool_exists")
    changed = ok(await admin.patch("/pools/acme", json={"name": "Acme 公司", "slug": "acme"}))
    assert changed["name"] == "Acme 公司"
    refused(await admin.patch("/pools/acme", json={"slug": "acme2"}), 400, "slug_immutable")
    await new_app(admin)
    ok(await admin.delete("/pools/acme"), 204)
    refused(await admin.get("/pools/acme"), 404, "unknown_pool")
    refused(await admin.get("/pools/acme/applications"), 404, "unknown_pool")
    refused(await admin.delete("/pools/acme"), 404, "unknown_pool")


async def test_bad_pool_slugs_are_refused(admin: httpx.AsyncClient) -> None:
    for slug in ["Acme", "acme_corp", "a" * 32, "-acme", ""]:
        response = await admin.post("/pools", json={"slug": slug, "name": "Acme"})
        refused(response, 400, "invalid_slug")


# identity sources


async def test_a_source_is_created_with_every_field_and_its_secret_is_never_read(
    admin: httpx.AsyncClient,
) -> None:
    await new_pool(admin)
    fields = {
        "unique_id": "wechat-pc",
        "display_name": "微信扫码登录",
        "callback_url": "https://shop.example/after-login",
        "private_deployment": True,
        "app_id": "wx_private_a",
        "app_secret": "the-private-secret",
        "login_mode": "login_only",
        "association": "ask_binding",
        "page": "pages/scan/scan",
        "env_version": "trial",
        "qr_expires_in": 300,
    }
    created = ok(await admin.post("/pools/acme/connections", json=fields), 201)
    expected = {k: v for k, v in fields.items() if k != "app_secret"}
    expected |= {"app_secret_set": True, "logo_url": None, "applications": [], "code_error": None}
    assert {k: v for k, v in created.items() if k != "created_at"} == expected
    read = ok(await admin.get("/pools/acme/connections/wechat-pc"))
    listed = ok(await admin.get("/pools/acme/connections"))["connections"]
    assert read == created == listed[0]
    for response in (created, read, listed):
        assert "the-private-secret" not in str(response)


BAD_SOURCE_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"unique_id": "WeChat-PC"}, "invalid_unique_id"),
    ({"unique_id": "wechat_pc"}, "invalid_unique_id"),
    ({"unique_id": "a" * 32}, "invalid_unique_id"),
    ({"unique_id": ""}, "invalid_unique_id"),
    ({"unique_id": 42}, "invalid_unique_id"),
    ({"display_name": ""}, "invalid_display_name"),
    ({"display_name": None}, "invalid_display_name"),
    ({"private_deployment": True}, "invalid_app_id"),
    ({"private_deployment": True, "app_id": "wx_private_a"}, "invalid_app_secret"),
    ({"callback_url": "javascript:alert(document.cookie)"}, "invalid_callback_url"),
    ({"callback_url": "/after-login"}, "invalid_callback_url"),
    ({"callback_url": "http://shop.example/after-login"}, "invalid_callback_url"),
    ({"callback_url": "https://shop.example/after-login#token"}, "invalid_callback_url"),
    ({"login_mode": "register"}, "invalid_login_mode"),
    ({"association": "phone"}, "invalid_association"),
    ({"env_version": "beta"}, "invalid_env_version"),
    ({"page": "/pages/login/login"}, "invalid_page"),
    ({"qr_expires_in": 10}, "invalid_qr_expires_in"),
    ({"qr_expires_in": 3600}, "invalid_qr_expires_in"),
]


async def test_bad_source_fields_are_refused_naming_the_field(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    for fields, error in BAD_SOURCE_FIELDS:
        body = {"unique_id": "wechat-pc", "display_name": "微信", **fields}
        refused(await admin.post("/pools/acme/connections", json=body), 400, error)
    assert ok(await admin.get("/pools/acme/connections"))["connections"] == []


async def test_messages_come_in_the_callers_language(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    body = {"unique_id": "WeChat", "display_name": "x"}
    chinese = await admin.post("/pools/acme/connections", json=body)
    english = await admin.post(
        "/pools/acme/connections", json=body, headers={"Accept-Language": "en-GB,en;q=0.8"}
    )
    assert "小写字母" in chinese.json()["message"]
    assert english.json()["message"].startswith("The unique ID may only hold lowercase")


async def test_unique_ids_are_unique_in_a_pool_only(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    await new_source(admin)
    refused(
        await admin.post(
            "/pools/acme/connections", json={"unique_id": "wechat-pc", "display_name": "again"}
        ),
        409,
        "connection_exists",
    )
    await new_pool(admin, "other")
    await new_source(admin, "other")


async def test_a_private_mini_programs_credentials_are_tested_against_wechat_when_saved(
    admin: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    """The sandbox takes the first AppSecret used with an AppID as that mini program's; any
    other answers errcode 40125, as WeChat does for a wrong one."""
    await new_pool(admin)
    await new_source(admin, private_deployment=True, app_id="wx_own_app", app_secret="right")
    path = "/pools/acme/connections/wechat-pc"
    wrong = await admin.patch(path, json={"app_secret": "wrong"})
    assert problems(wrong) == ["app_secret_rejected"]
    assert "AppSecret" in wrong.json()["message"]
    other = {"unique_id": "second", "display_name": "Second", "private_deployment": True}
    refused(
        await admin.post(
            "/pools/acme/connections", json={**other, "app_id": "wx_own_app", "app_secret": "x"}
        ),
        400,
        "app_secret_rejected",
    )
    assert [
        c["unique_id"] for c in ok(await admin.get("/pools/acme/connections"))["connections"]
    ] == ["wechat-pc"], "nothing saved"
    # Changing nothing about the credentials asks WeChat nothing.
    faults = f"{PUBLIC}/_sandbox/wechat/faults"
    fault = {"path": "cgi-bin/stable_token", "errcode": 40013, "times": 5}
    assert (await http.post(faults, json=fault)).status_code in (200, 201, 204)
    ok(await admin.patch(path, json={"display_name": "改名"}))
    refused(
        await admin.post(
            "/pools/acme/connections", json={**other, "app_id": "wx_unknown", "app_secret": "s"}
        ),
        400,
        "app_id_rejected",
    )
    await http.delete(faults)
    assert (await http.post(faults, json={**fault, "errcode": -1})).status_code < 300
    busy = await admin.post(
        "/pools/acme/connections", json={**other, "app_id": "wx_new_app", "app_secret": "s"}
    )
    assert busy.status_code == 424, busy.text
    assert busy.headers["retry-after"]
    await http.delete(faults)
    ok(
        await admin.post(
            "/pools/acme/connections", json={**other, "app_id": "wx_new_app", "app_secret": "s"}
        ),
        201,
    )


async def test_a_source_is_changed_but_never_its_unique_id(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    await new_source(admin, private_deployment=True, app_id="wx_private_a", app_secret="one")
    refused(
        await admin.patch("/pools/acme/connections/wechat-pc", json={"unique_id": "renamed"}),
        400,
        "unique_id_immutable",
    )
    changed = ok(
        await admin.patch(
            "/pools/acme/connections/wechat-pc",
            json={
                "unique_id": "wechat-pc",
                "display_name": "扫码登录",
                "app_secret": None,
                "logo_url": "https://ignored.example/logo.png",
                "qr_expires_in": 60,
            },
        )
    )
    assert (changed["display_name"], changed["qr_expires_in"]) == ("扫码登录", 60)
    assert changed["app_secret_set"] is True
    assert changed["logo_url"] is None
    refused(
        await admin.patch("/pools/acme/connections/wechat-pc", json={"app_id": None}),
        400,
        "invalid_app_id",
    )
    refused(await admin.patch("/pools/acme/connections/nope", json={}), 404, "unknown_connection")
    refused(await admin.get("/pools/nope/connections/wechat-pc"), 404, "unknown_pool")
    events = ok(await admin.get("/pools/acme/audit", params={"action": "admin.connection."}))
    updated = events["events"][0]
    assert updated["action"] == "admin.connection.updated"
    assert updated["actor"] == "MINILOGIN_ADMIN_TOKEN"
    assert updated["subject"] == "wechat-pc"
    assert updated["detail"] == {"changed": ["display_name", "qr_expires_in"]}


async def test_deleting_a_source_switches_it_off_everywhere(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    await new_source(admin)
    app = await new_app(admin)
    await enable(admin, app["client_id"])
    ok(await admin.delete("/pools/acme/connections/wechat-pc"), 204)
    assert ok(await admin.get(f"/pools/acme/applications/{app['client_id']}"))["connections"] == []
    refused(await admin.delete("/pools/acme/connections/wechat-pc"), 404, "unknown_connection")


# logos


async def test_a_logo_is_uploaded_served_and_drawn_into_the_next_codes(
    admin: httpx.AsyncClient, http: httpx.AsyncClient, phone: Phone
) -> None:
    await new_pool(admin)
    await new_source(admin)
    app = await new_app(admin)
    await enable(admin, app["client_id"])
    browser = Browser(http, f"{PUBLIC}/pools/acme", app["client_id"])
    on_screen = await browser.create()
    plain = await http.get(on_screen.image_url)
    assert centre(plain.content) != LOGO_RED

    source = ok(
        await admin.put(
            "/pools/acme/connections/wechat-pc/logo",
            content=png((600, 400)),
            headers={"Content-Type": "image/png"},
        )
    )
    assert source["logo_url"] == f"{PUBLIC}/pools/acme/connections/wechat-pc/logo.png?v=1"
    served = await http.get(source["logo_url"])
    assert served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).size == (512, 341)

    fresh = await browser.create()
    image = (await http.get(fresh.image_url)).content
    assert centre(image) == pytest.approx(LOGO_RED, abs=3)  # a JPEG code: within a step
    assert scene_of(decode_qr(image))[1] != ""

    # The code already on screen still logs in after the change.
    appid, scene = await browser.read_code(on_screen)
    await phone.set_profile(phone="+8613800138001")
    scanned = await phone.scan(appid, scene)
    assert scanned.status_code == 200, scanned.text
    assert (await phone.confirm(appid, scanned.json()["session"])).json()["status"] == "authorized"

    ok(await admin.delete("/pools/acme/connections/wechat-pc/logo"), 204)
    assert ok(await admin.get("/pools/acme/connections/wechat-pc"))["logo_url"] is None
    refused(await http.get(source["logo_url"]), 404, "no_logo")
    newest = await browser.create()
    assert centre((await http.get(newest.image_url)).content) != LOGO_RED


def centre(png_bytes: bytes) -> tuple[int, int, int]:
    image = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    pixel = image.getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return (int(pixel[0]), int(pixel[1]), int(pixel[2]))


async def test_a_logo_can_come_as_a_multipart_form(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    await new_source(admin)
    source = ok(
        await admin.put(
            "/pools/acme/connections/wechat-pc/logo",
            files={"logo": ("logo.webp", webp(), "image/webp")},
        )
    )
    assert source["logo_url"].endswith("?v=1")


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), LOGO_RED).save(out, format="WEBP")
    return out.getvalue()


BAD_LOGOS: list[tuple[bytes, str]] = [
    (b"<html>not an image</html>", "image/png"),
    (b"GIF89a" + b"\x00" * 64, "image/gif"),
    (png_claiming(40_000, 40_000), "image/png"),
    (png()[:200], "image/png"),
    (b"", "image/png"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024 + 1), "image/png"),
    (b"--x\r\nnot really multipart", "multipart/form-data; boundary=x"),
]


async def test_what_is_not_an_acceptable_logo_is_refused(admin: httpx.AsyncClient) -> None:
    """Text posing as an image, a GIF, a 40000×40000 PNG, a truncated PNG, nothing, more than
    2 MiB, a broken multipart form."""
    await new_pool(admin)
    await new_source(admin)
    for body, content_type in BAD_LOGOS:
        response = await admin.put(
            "/pools/acme/connections/wechat-pc/logo",
            content=body,
            headers={"Content-Type": content_type},
        )
        refused(response, 400, "invalid_logo")
    assert ok(await admin.get("/pools/acme/connections/wechat-pc"))["logo_url"] is None


async def test_a_logo_for_an_unknown_source_is_refused(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    response = await admin.put("/pools/acme/connections/nope/logo", content=png())
    refused(response, 404, "unknown_connection")


# applications


async def test_a_single_page_app_has_no_secret_and_logs_in_with_pkce(
    admin: httpx.AsyncClient, http: httpx.AsyncClient, phone: Phone
) -> None:
    await new_pool(admin)
    await new_source(admin)
    app = await new_app(admin, redirect_uris=["https://shop.example/cb"])
    assert app["type"] == "spa"
    assert "client_secret" not in app
    assert re.fullmatch(r"[0-9a-f]{24}", app["client_id"])
    await enable(admin, app["client_id"])
    assert ok(await admin.get(f"/pools/acme/applications/{app['client_id']}"))["connections"] == [
        "wechat-pc"
    ]
    browser = Browser(http, f"{PUBLIC}/pools/acme", app["client_id"])
    login, status = await log_in(browser, phone)
    tokens = await browser.exchange(login, status["code"])
    assert tokens.status_code == 200, tokens.text


async def test_a_web_apps_secret_is_shown_once_and_rotates(
    admin: httpx.AsyncClient, http: httpx.AsyncClient, phone: Phone
) -> None:
    await new_pool(admin)
    await new_source(admin)
    app = await new_app(admin, type="web")
    secret = app["client_secret"]
    client_id = app["client_id"]
    assert len(secret) >= 40
    assert "client_secret" not in ok(await admin.get(f"/pools/acme/applications/{client_id}"))
    await enable(admin, client_id)
    browser = Browser(http, f"{PUBLIC}/pools/acme", client_id)

    async def exchange(client_secret: str) -> httpx.Response:
        login, status = await log_in(browser, phone)
        return await http.post(
            f"{PUBLIC}/pools/acme/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": status["code"],
                "code_verifier": login.verifier,
                "client_id": client_id,
                "client_secret": client_secret,
            },
        )

    assert (await exchange(secret)).status_code == 200
    rotated = ok(await admin.post(f"/pools/acme/applications/{client_id}/secret"))
    assert rotated["client_secret"] != secret
    assert (await exchange(secret)).json()["error"] == "invalid_client"
    assert (await exchange(rotated["client_secret"])).status_code == 200
    spa = await new_app(admin)
    refused(
        await admin.post(f"/pools/acme/applications/{spa['client_id']}/secret"),
        400,
        "no_client_secret",
    )


BAD_APPLICATION_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"name": ""}, "invalid_name"),
    ({"type": "native"}, "invalid_type"),
    ({"redirect_uris": ["https://shop.example/cb#fragment"]}, "invalid_redirect_uris"),
    ({"redirect_uris": ["/cb"]}, "invalid_redirect_uris"),
    ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uris"),
    ({"web_origins": ["https://shop.example/app"]}, "invalid_web_origins"),
    ({"post_logout_redirect_uris": ["bye"]}, "invalid_post_logout_redirect_uris"),
    ({"access_token_lifetime": 10}, "invalid_access_token_lifetime"),
    ({"id_token_signed_response_alg": "HS256"}, "invalid_id_token_signed_response_alg"),
    ({"id_token_signed_response_alg": "none"}, "invalid_id_token_signed_response_alg"),
]


async def test_bad_application_fields_are_refused(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    for fields, error in BAD_APPLICATION_FIELDS:
        response = await admin.post("/pools/acme/applications", json={"name": "Shop", **fields})
        refused(response, 400, error)
    assert ok(await admin.get("/pools/acme/applications"))["applications"] == []


async def test_an_application_chooses_its_id_token_algorithm(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    default = await new_app(admin)
    assert default["id_token_signed_response_alg"] == "RS256"
    chosen = await new_app(admin, id_token_signed_response_alg="ES256")
    assert chosen["id_token_signed_response_alg"] == "ES256"
    path = f"/pools/acme/applications/{default['client_id']}"
    changed = ok(await admin.patch(path, json={"id_token_signed_response_alg": "ES256"}))
    assert changed["id_token_signed_response_alg"] == "ES256"
    refused(
        await admin.patch(path, json={"id_token_signed_response_alg": 256}),
        400,
        "invalid_id_token_signed_response_alg",
    )
    assert ok(await admin.get(path))["id_token_signed_response_alg"] == "ES256"


def problems(response: httpx.Response) -> list[str]:
    """The codes of every broken field an answer names, checking its shape."""
    assert response.status_code == 400, response.text
    body = response.json()
    codes = [problem["error"] for problem in body["errors"]]
    assert all(problem["message"] for problem in body["errors"])
    assert body["error"] == codes[0], "the first is the body's own error"
    return codes


async def test_every_broken_field_is_named_at_once(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    bad_app = {
        "name": "",
        "redirect_uris": ["/cb"],
        "web_origins": ["https://shop.example/app"],
        "access_token_lifetime": 10,
        "id_token_signed_response_alg": "HS256",
    }
    assert problems(await admin.post("/pools/acme/applications", json=bad_app)) == [
        "invalid_name",
        "invalid_redirect_uris",
        "invalid_web_origins",
        "invalid_access_token_lifetime",
        "invalid_id_token_signed_response_alg",
    ]
    bad_source = {
        "unique_id": "Not Valid",
        "display_name": "",
        "callback_url": "ftp://x",
        "private_deployment": True,
        "qr_expires_in": 5,
    }
    assert problems(await admin.post("/pools/acme/connections", json=bad_source)) == [
        "invalid_unique_id",
        "invalid_display_name",
        "invalid_callback_url",
        "invalid_qr_expires_in",
        "invalid_app_id",
        "invalid_app_secret",
    ]
    assert problems(await admin.post("/pools", json={"slug": "Bad Slug", "name": ""})) == [
        "invalid_slug",
        "invalid_name",
    ]
    bad_user = {"username": "1x", "phone": "12", "email": "no", "password": "short"}
    assert problems(await admin.post("/pools/acme/users", json=bad_user)) == [
        "invalid_username",
        "invalid_phone",
        "invalid_email",
        "invalid_password",
    ]
    app = await new_app(admin)
    path = f"/pools/acme/applications/{app['client_id']}"
    codes = problems(await admin.patch(path, json={"name": "", "refresh_token_lifetime": 1}))
    assert codes == ["invalid_name", "invalid_refresh_token_lifetime"]
    assert ok(await admin.get(path))["name"] == "Shop", "nothing half-changed"
    assert ok(await admin.get("/pools/acme/connections"))["connections"] == []


async def test_an_application_is_changed_and_deleted(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    app = await new_app(admin)
    path = f"/pools/acme/applications/{app['client_id']}"
    changed = ok(
        await admin.patch(
            path, json={"name": "Store", "redirect_uris": ["https://store.example/cb"]}
        )
    )
    assert (changed["name"], changed["redirect_uris"]) == ("Store", ["https://store.example/cb"])
    refused(await admin.patch(path, json={"type": "web"}), 400, "application_type_immutable")
    refused(await admin.put(f"{path}/connections/nope"), 404, "unknown_connection")
    refused(await admin.put("/pools/acme/applications/nope/connections/x"), 404, "unknown_client")
    ok(await admin.delete(path), 204)
    refused(await admin.get(path), 404, "unknown_client")


async def test_switching_a_source_off_stops_its_codes(
    admin: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    await new_pool(admin)
    await new_source(admin)
    app = await new_app(admin)
    await enable(admin, app["client_id"])
    assert ok(await admin.get("/pools/acme/connections/wechat-pc"))["applications"] == [
        app["client_id"]
    ]
    ok(
        await admin.delete(f"/pools/acme/applications/{app['client_id']}/connections/wechat-pc"),
        204,
    )
    assert ok(await admin.get("/pools/acme/connections/wechat-pc"))["applications"] == []
    response = await http.post(
        f"{PUBLIC}/pools/acme/api/qrcodes",
        json={"client_id": app["client_id"], "code_challenge": "x" * 43},
    )
    refused(response, 404, "no_connection")


async def test_experience_login_of_a_web_app_shows_the_claims_without_issuing_tokens(
    admin: httpx.AsyncClient, http: httpx.AsyncClient, phone: Phone
) -> None:
    await new_pool(admin)
    await new_source(admin)
    app = await new_app(admin, type="web")
    await enable(admin, app["client_id"])
    browser = Browser(http, f"{PUBLIC}/pools/acme", app["client_id"])
    login, status = await log_in(browser, phone, "+8613900139000")
    path = f"/pools/acme/applications/{app['client_id']}/experience"
    refused(
        await admin.post(path, json={"code": status["code"], "code_verifier": "w" * 43}),
        400,
        "invalid_experience_code",
    )
    login, status = await log_in(browser, phone, "+8613900139000")
    shown = ok(
        await admin.post(path, json={"code": status["code"], "code_verifier": login.verifier})
    )
    assert shown["claims"]["aud"] == app["client_id"]
    assert shown["claims"]["iss"] == f"{PUBLIC}/pools/acme"
    assert shown["claims"]["phone_number"] == "+8613900139000"
    assert shown["user"]["id"] == shown["claims"]["sub"]
    assert (await browser.status(login))["status"] == "consumed"
    refused(
        await admin.post(path, json={"code": status["code"], "code_verifier": login.verifier}),
        400,
        "invalid_experience_code",
    )


async def test_experience_login_refuses_a_user_blocked_after_the_scan(
    admin: httpx.AsyncClient, http: httpx.AsyncClient, phone: Phone
) -> None:
    """The experience checks the code as the token endpoint does, blocked users included."""
    await new_pool(admin)
    await new_source(admin)
    app = await new_app(admin, type="web")
    await enable(admin, app["client_id"])
    browser = Browser(http, f"{PUBLIC}/pools/acme", app["client_id"])
    login, status = await log_in(browser, phone, "+8613900139000")
    [user] = ok(await admin.get("/pools/acme/users", params={"q": "13900139000"}))["users"]
    ok(await admin.patch(f"/pools/acme/users/{user['id']}", json={"blocked": True}))
    path = f"/pools/acme/applications/{app['client_id']}/experience"
    refused(
        await admin.post(path, json={"code": status["code"], "code_verifier": login.verifier}),
        403,
        "account_blocked",
    )
    assert (await browser.status(login))["status"] == "authorized", "the login is not consumed"


# users


async def test_users_are_created_searched_changed_and_deleted(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    created = ok(
        await admin.post(
            "/pools/acme/users",
            json={
                "username": "Alice",
                "phone": "13800138000",
                "phone_verified": True,
                "email": "alice@example.com",
                "password": "long enough",
            },
        ),
        201,
    )
    assert created["username"] == "alice"
    assert created["phone"] == "+8613800138000"
    assert created["password_set"] is True
    assert "password_hash" not in created
    ok(await admin.post("/pools/acme/users", json={"phone": "+8613700137000"}), 201)
    for query, expected in [("138001", 1), ("ALI", 1), ("example.com", 1), ("+86", 2), ("zz", 0)]:
        found = ok(await admin.get("/pools/acme/users", params={"q": query}))
        assert found["total"] == expected, query
    assert [u["phone"] for u in ok(await admin.get("/pools/acme/users?limit=1"))["users"]] == [
        "+8613700137000"
    ]
    path = f"/pools/acme/users/{created['id']}"
    blocked = ok(await admin.patch(path, json={"blocked": True, "nickname": "小爱"}))
    assert (blocked["blocked"], blocked["nickname"]) == (True, "小爱")
    moved = ok(await admin.patch(path, json={"phone": "+8613800138999"}))
    assert (moved["phone"], moved["phone_verified"]) == ("+8613800138999", False)
    ok(await admin.delete(path), 204)
    refused(await admin.get(path), 404, "unknown_user")
    actions = [e["action"] for e in ok(await admin.get("/pools/acme/audit"))["events"]]
    assert actions[:4] == [
        "admin.user.deleted",
        "admin.user.updated",
        "admin.user.updated",
        "admin.user.created",
    ]


BAD_USERS: list[tuple[dict[str, Any], int, str]] = [
    ({"username": "1alice"}, 400, "invalid_username"),
    ({"username": "al"}, 400, "invalid_username"),
    ({"phone": "12"}, 400, "invalid_phone"),
    ({"username": "alice", "email": "not-an-email"}, 400, "invalid_email"),
    ({"username": "alice", "password": "short"}, 400, "invalid_password"),
    ({"username": "alice", "phone_verified": True}, 400, "invalid_phone_verified"),
    ({"email": "a@example.com"}, 400, "user_identifier_required"),
    ({"username": "taken"}, 409, "username_taken"),
    ({"phone": "+8613800138000"}, 409, "phone_taken"),
]


async def test_bad_users_are_refused(admin: httpx.AsyncClient) -> None:
    await new_pool(admin)
    taken = {"username": "taken", "phone": "+8613800138000"}
    ok(await admin.post("/pools/acme/users", json=taken), 201)
    for fields, status, error in BAD_USERS:
        refused(await admin.post("/pools/acme/users", json=fields), status, error)
    assert ok(await admin.get("/pools/acme/users"))["total"] == 1


async def test_a_user_shows_its_wechat_identities_and_logins_and_can_be_unlinked(
    admin: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    _, status = await log_in(browser, phone, "+8613600136000")
    assert status["status"] == "authorized"
    users = ok(await admin.get("/pools/demo/users", params={"q": "13600136000"}))["users"]
    user = ok(await admin.get(f"/pools/demo/users/{users[0]['id']}"))
    assert user["login_count"] == 1
    [identity] = user["identities"]
    assert identity["app_id"] == "wx0000000000sandbox"
    [login] = user["recent_logins"]
    assert (login["client_id"], login["connection"]) == ("demo", "wechat-mp-qrcode")
    path = f"/pools/demo/users/{user['id']}/identities/{identity['id']}"
    ok(await admin.delete(path), 204)
    refused(await admin.delete(path), 404, "unknown_identity")
    assert ok(await admin.get(f"/pools/demo/users/{user['id']}"))["identities"] == []


async def test_a_blocked_user_can_no_longer_exchange_a_code(
    admin: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    login, status = await log_in(browser, phone, "+8613500135000")
    [user] = ok(await admin.get("/pools/demo/users", params={"q": "13500135000"}))["users"]
    ok(await admin.patch(f"/pools/demo/users/{user['id']}", json={"blocked": True}))
    exchanged = await browser.exchange(login, status["code"])
    assert exchanged.json()["error"] == "invalid_grant"


# the dashboard


async def test_the_dashboard_counts_each_code_by_how_far_it_got(
    admin: httpx.AsyncClient, http: httpx.AsyncClient, clock: Clock
) -> None:
    await new_pool(admin)
    await new_source(admin, qr_expires_in=30)
    app = await new_app(admin)
    await enable(admin, app["client_id"])
    browser = Browser(http, f"{PUBLIC}/pools/acme", app["client_id"])
    phones = [Phone(http, PUBLIC, name) for name in ("ann", "ben", "cat")]

    consumed, status = await log_in(browser, phones[0])
    assert (await browser.exchange(consumed, status["code"])).status_code == 200
    declined = await browser.create()
    appid, scene = await browser.read_code(declined)
    session = (await phones[1].scan(appid, scene)).json()["session"]
    assert (await phones[1].cancel(session)).status_code == 200
    closed = await browser.create()
    assert (
        await http.delete(f"{browser.issuer}/api/qrcodes/{closed.id}", headers=closed.auth)
    ).status_code == 204
    await browser.create()
    abandoned = await browser.create()
    appid, scene = await browser.read_code(abandoned)
    assert (await phones[2].scan(appid, scene)).status_code == 200

    before = ok(await admin.get("/pools/acme/stats", params={"days": 2}))
    assert totals(before) == {
        "shown": 5,
        "scanned": 3,
        "authorized": 1,
        "consumed": 1,
        "cancelled": 2,
        "expired": 0,
    }
    clock.advance(31)
    after = ok(await admin.get("/pools/acme/stats", params={"days": 2, "tz_offset": -300}))
    assert totals(after)["expired"] == 2
    assert after["tz_offset"] == -300
    assert len(after["days"]) == 2
    assert ok(await admin.get("/pools/demo/stats"))["connections"][0]["totals"]["shown"] == 0


def totals(stats: dict[str, Any]) -> dict[str, int]:
    [connection] = stats["connections"]
    assert connection["unique_id"] == "wechat-pc"
    assert sum(day["shown"] for day in connection["days"]) == connection["totals"]["shown"]
    result: dict[str, int] = connection["totals"]
    return result


BAD_QUERIES: list[tuple[str, str]] = [
    ("/pools/demo/stats?days=0", "invalid_days"),
    ("/pools/demo/stats?days=32", "invalid_days"),
    ("/pools/demo/stats?tz_offset=900", "invalid_tz_offset"),
    ("/pools/demo/stats?days=x", "invalid_request"),
    ("/pools/demo/audit?limit=0", "invalid_limit"),
    (f"/pools/demo/audit?action={'a' * 65}", "invalid_action"),
    ("/pools/demo/users?limit=1000", "invalid_request"),
]


async def test_bad_dashboard_and_log_queries_are_refused(admin: httpx.AsyncClient) -> None:
    for path, error in BAD_QUERIES:
        refused(await admin.get(path), 400, error)


# the console's session


@pytest.fixture
async def administrator(services: Services) -> tuple[str, str]:
    await access.create_admin(
        access_ports(services), Actor("cli:test"), "boss", "correct horse battery"
    )
    return "boss", "correct horse battery"


async def console_login(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post(
        f"{PUBLIC}/console/login",
        data={"username": username, "password": password},
        headers={"Origin": PUBLIC},
    )


def session_of(response: httpx.Response) -> str:
    cookie = SimpleCookie(response.headers["set-cookie"])["minilogin_console"]
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    return cookie.value


async def test_the_console_session_needs_its_csrf_token_for_every_change(
    http: httpx.AsyncClient, administrator: tuple[str, str]
) -> None:
    response = await console_login(http, *administrator)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"
    cookie = {"Cookie": f"minilogin_console={session_of(response)}"}
    page = await http.get(f"{PUBLIC}/console/", headers=cookie)
    assert "default-src 'self'" in page.headers["content-security-policy"]
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None

    assert (await http.get(f"{API}/pools", headers=cookie)).status_code == 200
    body = {"slug": "acme", "name": "Acme"}
    refused(await http.post(f"{API}/pools", json=body, headers=cookie), 403, "csrf_failed")
    wrong = {**cookie, "X-CSRF-Token": "guess"}
    refused(await http.post(f"{API}/pools", json=body, headers=wrong), 403, "csrf_failed")
    foreign = {**cookie, "X-CSRF-Token": csrf[1], "Origin": "https://evil.example"}
    refused(await http.post(f"{API}/pools", json=body, headers=foreign), 403, "csrf_failed")
    good = {**cookie, "X-CSRF-Token": csrf[1], "Origin": PUBLIC}
    ok(await http.post(f"{API}/pools", json=body, headers=good), 201)
    events = ok(await http.get(f"{API}/pools/acme/audit", headers=cookie))["events"]
    assert events[0]["actor"] == "boss"

    out = await http.post(f"{PUBLIC}/console/logout", data={"csrf": csrf[1]}, headers=cookie)
    assert out.status_code == 303
    refused(await http.get(f"{API}/pools", headers=cookie), 401, "unauthorized")
    assert (await http.get(f"{PUBLIC}/console/", headers=cookie)).headers["location"] == (
        "/console/login"
    )


async def test_wrong_passwords_are_refused_and_attempts_are_limited(
    app: FastAPI, http: httpx.AsyncClient, administrator: tuple[str, str]
) -> None:
    """Ten wrong passwords for one account from one address stop that address, not the
    owner elsewhere: no one can lock an administrator out."""
    wrong = await console_login(http, "boss", "not the password")
    assert wrong.status_code == 401
    assert "用户名或密码错误" in wrong.text
    assert "set-cookie" not in wrong.headers
    unknown = await console_login(http, "nobody", "whatever")
    assert unknown.status_code == 401
    for _ in range(9):
        await console_login(http, "boss", "still wrong")
    limited = await console_login(http, *administrator)
    assert limited.status_code == 429
    assert "操作太频繁" in limited.text
    assert 0 < int(limited.headers["retry-after"]) <= 900
    elsewhere = httpx.ASGITransport(app=app, client=("198.51.100.99", 50000))
    async with httpx.AsyncClient(transport=elsewhere) as owner:
        assert (await console_login(owner, *administrator)).status_code == 303
    log = await http.get(
        f"{API}/audit",
        params={"action": "admin.login"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    events = ok(log)["events"]
    assert [e["action"] for e in events] == ["admin.login"] + ["admin.login_failed"] * 11
    assert {e["subject"] for e in events} == {"boss", "nobody"}
    assert [e["ip"] for e in events[:2]] == ["198.51.100.99", "203.0.113.7"]


async def test_a_login_form_posted_from_another_site_is_refused(
    http: httpx.AsyncClient, administrator: tuple[str, str]
) -> None:
    response = await http.post(
        f"{PUBLIC}/console/login",
        data={"username": administrator[0], "password": administrator[1]},
        headers={"Origin": "https://evil.example"},
    )
    refused(response, 403, "csrf_failed")


async def test_the_console_pages_speak_english_when_asked(http: httpx.AsyncClient) -> None:
    page = await http.get(f"{PUBLIC}/console/login", params={"lang": "en"})
    assert '<html lang="en">' in page.text
    assert "Log in to the console" in page.text
    remembered = await http.get(f"{PUBLIC}/console/login", headers={"Cookie": "minilogin_lang=en"})
    assert "Log in to the console" in remembered.text
    http.cookies.clear()
    assert "登录控制台" in (await http.get(f"{PUBLIC}/console/login")).text
    english = await http.get(f"{PUBLIC}/console/login", headers={"Accept-Language": "en-US"})
    assert "Log in to the console" in english.text


async def test_the_admin_api_is_documented_in_openapi(http: httpx.AsyncClient) -> None:
    schema = (await http.get(f"{PUBLIC}/openapi.json")).json()
    paths = schema["paths"]
    assert {
        "/admin/api/pools",
        "/admin/api/pools/{pool}/applications/{client_id}/connections/{unique_id}",
        "/admin/api/pools/{pool}/connections/{unique_id}/logo",
        "/admin/api/pools/{pool}/users/{user_id}",
        "/admin/api/pools/{pool}/stats",
        "/admin/api/pools/{pool}/audit",
    } <= paths.keys()
    create = paths["/admin/api/pools/{pool}/connections"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert {"unique_id", "display_name", "app_secret", "qr_expires_in"} <= body["properties"].keys()
    assert body["properties"]["login_mode"]["enum"] == ["login_and_register", "login_only"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


async def test_pkce_and_introspection_rights_are_set_per_application(
    admin: httpx.AsyncClient,
) -> None:
    await new_pool(admin)
    spa = await new_app(admin)
    assert (spa["pkce_required"], spa["resource_server"]) == (True, False)
    refused(
        await admin.post("/pools/acme/applications", json={"name": "x", "pkce_required": False}),
        400,
        "invalid_pkce_required",
    )
    legacy = await new_app(admin, type="web", pkce_required=False, resource_server=True)
    assert (legacy["pkce_required"], legacy["resource_server"]) == (False, True)
    path = f"/pools/acme/applications/{legacy['client_id']}"
    changed = ok(await admin.patch(path, json={"pkce_required": True, "resource_server": False}))
    assert (changed["pkce_required"], changed["resource_server"]) == (True, False)
    refused(
        await admin.patch(path, json={"resource_server": "yes"}), 400, "invalid_resource_server"
    )


async def test_a_huge_offset_is_refused_not_a_server_error(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/pools/demo/users", params={"offset": "9223372036854775808"})
    refused(response, 400, "invalid_request")
