"""The browser's QR login API (API.md §1), driven as the PC page drives it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from tests.conftest import PUBLIC, Clock
from tests.support.actors import Browser, Phone, decode_qr

from minilogin.core.pkce import s256
from minilogin.images import image_type

ISSUER = f"{PUBLIC}/pools/demo"
CHALLENGE = s256("v" * 43)


async def test_create_answers_the_contract(browser: Browser) -> None:
    login = await browser.create(state="xyz")
    body = login.body
    assert body["status"] == "pending"
    assert body["id"].startswith("qrl_")
    assert body["image_url"] == f"{ISSUER}/api/qrcodes/{login.id}/image.png"
    assert 115 <= body["expires_in"] <= 120
    assert body["expires_at"].endswith("Z")
    assert len(body["secret"]) >= 32
    status = await browser.status(login)
    assert status == {
        "id": login.id,
        "status": "pending",
        "expires_in": status["expires_in"],
        "state": "xyz",
    }


async def test_the_image_is_a_code_that_opens_the_phone_page(browser: Browser) -> None:
    login = await browser.create()
    appid, scene = await browser.read_code(login)
    assert appid == "wx0000000000sandbox"
    assert 1 <= len(scene) <= 32
    # In sandbox mode the answer names that page too, for a laptop that can't scan itself.
    image = await browser.http.get(login.image_url)
    assert login.body["sandbox_phone_url"] == decode_qr(image.content)


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"client_id": 123, "code_challenge": CHALLENGE}, 400, "invalid_request"),
        ({"code_challenge": CHALLENGE}, 400, "invalid_request"),
        ({"client_id": "demo"}, 400, "invalid_request"),
        ({"client_id": "nope", "code_challenge": CHALLENGE}, 404, "unknown_client"),
        (
            {"client_id": "demo", "code_challenge": CHALLENGE, "code_challenge_method": "plain"},
            400,
            "invalid_code_challenge_method",
        ),
        ({"client_id": "demo", "code_challenge": "short"}, 400, "invalid_code_challenge"),
        (
            {"client_id": "demo", "code_challenge": CHALLENGE, "connection": "other"},
            404,
            "unknown_connection",
        ),
        (
            {"client_id": "demo", "code_challenge": CHALLENGE, "state": "s" * 600},
            400,
            "invalid_request",
        ),
    ],
)
async def test_bad_creates_are_refused_clearly(
    http: httpx.AsyncClient, body: dict[str, object], status: int, error: str
) -> None:
    response = await http.post(f"{ISSUER}/api/qrcodes", json=body)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["message"]


async def test_malformed_json_and_unknown_pool(http: httpx.AsyncClient) -> None:
    response = await http.post(
        f"{ISSUER}/api/qrcodes", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_json")
    response = await http.post(
        f"{PUBLIC}/pools/nope/api/qrcodes", json={"client_id": "demo", "code_challenge": CHALLENGE}
    )
    assert (response.status_code, response.json()["error"]) == (404, "unknown_pool")


async def test_messages_follow_accept_language(http: httpx.AsyncClient) -> None:
    url = f"{PUBLIC}/pools/nope/api/qrcodes"
    body = {"client_id": "demo", "code_challenge": CHALLENGE}
    zh = await http.post(url, json=body)
    en = await http.post(url, json=body, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert zh.json()["message"] == "用户池不存在。"
    assert en.json()["message"] == "This user pool does not exist."


async def test_a_wrong_or_missing_secret_reveals_nothing(
    http: httpx.AsyncClient, browser: Browser
) -> None:
    login = await browser.create()
    # A long poll authenticates once subscribed (login/qrlogin.py): it refuses alike.
    poll = {"wait": 5, "last": "pending"}
    answers = [
        await http.get(f"{ISSUER}/api/qrcodes/{login.id}"),
        await http.get(f"{ISSUER}/api/qrcodes/{login.id}", params=poll),
        await http.get(
            f"{ISSUER}/api/qrcodes/{login.id}", params=poll, headers={"Authorization": "Bearer x"}
        ),
        await http.get(f"{ISSUER}/api/qrcodes/qrl_unknown", params=poll, headers=login.auth),
        await http.get(f"{ISSUER}/api/qrcodes/{login.id}", headers={"Authorization": "Bearer x"}),
        await http.get(f"{ISSUER}/api/qrcodes/qrl_unknown", headers=login.auth),
        await http.delete(f"{ISSUER}/api/qrcodes/{login.id}"),
    ]
    assert {(a.status_code, a.json()["error"]) for a in answers} == {(401, "unauthorized")}
    assert (await browser.status(login))["status"] == "pending"


async def test_long_poll_answers_as_soon_as_the_status_changes(
    browser: Browser, phone: Phone
) -> None:
    login = await browser.create()
    appid, scene = await browser.read_code(login)
    waiting = asyncio.create_task(browser.status(login, wait=10, last="pending"))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    assert (await phone.scan(appid, scene)).status_code == 200
    status = await asyncio.wait_for(waiting, 2)
    assert status["status"] == "scanned"


async def test_long_poll_returns_the_unchanged_status_after_the_wait(browser: Browser) -> None:
    login = await browser.create()
    status = await browser.status(login, wait=0.2, last="pending")
    assert status["status"] == "pending"
    changed = await browser.status(login, wait=5, last="scanned")
    assert changed["status"] == "pending"


async def test_long_poll_rejects_a_wait_over_30_seconds(
    http: httpx.AsyncClient, browser: Browser
) -> None:
    login = await browser.create()
    response = await http.get(
        f"{ISSUER}/api/qrcodes/{login.id}",
        params={"wait": 31, "last": "pending"},
        headers=login.auth,
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_cancel_by_the_browser(
    http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    login = await browser.create()
    appid, scene = await browser.read_code(login)
    response = await http.delete(f"{ISSUER}/api/qrcodes/{login.id}", headers=login.auth)
    assert response.status_code == 204
    again = await http.delete(f"{ISSUER}/api/qrcodes/{login.id}", headers=login.auth)
    assert again.status_code == 204
    status = await browser.status(login)
    assert (status["status"], status["error"]) == ("cancelled", "cancelled_by_browser")
    scanned = await phone.scan(appid, scene)
    assert (scanned.status_code, scanned.json()["error"]) == (409, "qrlogin_cancelled")


async def test_expiry_is_seen_by_the_browser_and_the_phone(
    http: httpx.AsyncClient, browser: Browser, phone: Phone, clock: Clock
) -> None:
    login = await browser.create()
    appid, scene = await browser.read_code(login)
    clock.advance(121)
    status = await browser.status(login)
    assert (status["status"], status["expires_in"]) == ("expired", 0)
    scanned = await phone.scan(appid, scene)
    assert (scanned.status_code, scanned.json()["error"]) == (410, "qrlogin_expired")
    image = await http.get(login.image_url)
    assert (image.status_code, image.json()["error"]) == (410, "qrlogin_expired")


async def test_long_poll_ends_at_expiry(browser: Browser, clock: Clock) -> None:
    login = await browser.create()
    clock.advance(119.8)
    status = await asyncio.wait_for(browser.status(login, wait=10, last="pending"), 3)
    assert status["status"] == "expired"


async def test_unknown_image(http: httpx.AsyncClient) -> None:
    response = await http.get(f"{ISSUER}/api/qrcodes/qrl_nope/image.png")
    assert (response.status_code, response.json()["error"]) == (404, "qrlogin_not_found")


async def test_cors_allows_the_registered_origin_only(http: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = await http.options(f"{ISSUER}/api/qrcodes", headers={"Origin": PUBLIC, **preflight})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == PUBLIC
    assert "POST" in allowed.headers["access-control-allow-methods"]
    refused = await http.options(
        f"{ISSUER}/api/qrcodes", headers={"Origin": "https://evil.example", **preflight}
    )
    assert refused.status_code == 403
    simple = await http.post(
        f"{ISSUER}/api/qrcodes",
        json={"client_id": "demo", "code_challenge": CHALLENGE},
        headers={"Origin": PUBLIC},
    )
    assert simple.headers["access-control-allow-origin"] == PUBLIC
    other = await http.post(
        f"{ISSUER}/api/qrcodes",
        json={"client_id": "demo", "code_challenge": CHALLENGE},
        headers={"Origin": "https://evil.example"},
    )
    assert "access-control-allow-origin" not in other.headers
    jwks = await http.get(f"{ISSUER}/oidc/jwks", headers={"Origin": "https://any.example"})
    assert jwks.headers["access-control-allow-origin"] == "*"


async def test_the_image_is_served_with_its_own_type(
    http: httpx.AsyncClient, browser: Browser
) -> None:
    """The path keeps ``.png``; the Content-Type is the stored image's (WeChat's are JPEG)."""
    login = await browser.create()
    image = await http.get(login.image_url)
    assert image.status_code == 200
    assert image.headers["content-type"] == image_type(image.content)
