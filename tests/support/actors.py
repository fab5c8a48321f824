"""The browser and the mini program, as a user's devices would talk to minilogin: only through
the HTTP contract, reading the scene from the PNG the browser shows (never from the store)."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import zxingcpp
from PIL import Image

from minilogin.core.pkce import s256
from minilogin.images import image_type


def decode_qr(png: bytes) -> str:
    """The text of the one QR code in an image, as a phone's camera would read it.

    Only QR codes are looked for: with every symbology, zxing now and then reads a linear
    barcode out of the code's modules (a "5805" once failed a test)."""
    results = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert results, "no QR code found in the image"
    return str(results[0].text)


def scene_of(phone_url: str) -> tuple[str, str]:
    """The AppID and scene a sandbox mini program code opens the phone page with."""
    query = parse_qs(urlparse(phone_url).query)
    return query["appid"][0], query["scene"][0]


@dataclass
class BrowserLogin:
    id: str
    secret: str
    image_url: str
    verifier: str
    body: dict[str, Any]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


class Browser:
    """The PC page: creates QR logins, shows the code, waits, exchanges the code."""

    def __init__(self, http: httpx.AsyncClient, issuer: str, client_id: str = "demo") -> None:
        self.http = http
        self.issuer = issuer
        self.client_id = client_id

    async def create(self, **extra: Any) -> BrowserLogin:
        verifier = secrets.token_urlsafe(48)
        body = {
            "client_id": self.client_id,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
            "scope": "openid profile phone",
            "nonce": secrets.token_urlsafe(8),
            **extra,
        }
        response = await self.http.post(f"{self.issuer}/api/qrcodes", json=body)
        assert response.status_code == 201, response.text
        data = response.json()
        return BrowserLogin(data["id"], data["secret"], data["image_url"], verifier, data)

    async def read_code(self, login: BrowserLogin) -> tuple[str, str]:
        """Load the image as the page's ``<img>`` does and read it as a camera would."""
        response = await self.http.get(login.image_url)
        assert response.status_code == 200, response.text
        # WeChat's codes are JPEG, the sandbox's too; the type is always the bytes' own.
        assert response.headers["content-type"] == image_type(response.content)
        return scene_of(decode_qr(response.content))

    async def status(self, login: BrowserLogin, **params: Any) -> dict[str, Any]:
        response = await self.http.get(
            f"{self.issuer}/api/qrcodes/{login.id}", headers=login.auth, params=params
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def exchange(self, login: BrowserLogin, code: str) -> httpx.Response:
        return await self.http.post(
            f"{self.issuer}/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": login.verifier,
                "client_id": self.client_id,
            },
        )


class Phone:
    """A simulated WeChat user holding the mini login mini program (sandbox, API.md §3–4):
    its codes come from the sandbox at ``wechat`` (by default on minilogin's own origin, as
    ``minilogin dev`` serves it), its mini program calls minilogin at ``public``."""

    def __init__(
        self, http: httpx.AsyncClient, public: str, user: str, wechat: str | None = None
    ) -> None:
        self.http = http
        self.public = public
        self.user = user
        self.wechat = wechat or public

    async def set_profile(self, **fields: Any) -> dict[str, Any]:
        response = await self.http.put(f"{self.wechat}/_sandbox/wx/users/{self.user}", json=fields)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def _code(self, kind: str, appid: str) -> str:
        response = await self.http.post(
            f"{self.wechat}/_sandbox/wx/{kind}", json={"appid": appid, "user": self.user}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["code"])

    async def wx_login(self, appid: str) -> str:
        return await self._code("login", appid)

    async def phone_code(self, appid: str) -> str:
        return await self._code("phone_code", appid)

    async def scan(self, appid: str, scene: str) -> httpx.Response:
        js_code = await self.wx_login(appid)
        return await self.http.post(
            f"{self.public}/api/miniprogram/scan", json={"scene": scene, "js_code": js_code}
        )

    async def confirm(self, appid: str, session: str, **profile: str) -> httpx.Response:
        phone_code = await self.phone_code(appid)
        return await self.http.post(
            f"{self.public}/api/miniprogram/confirm",
            json={"session": session, "phone_code": phone_code, **profile},
        )

    async def cancel(self, session: str, reason: str | None = None) -> httpx.Response:
        body = {"session": session} if reason is None else {"session": session, "reason": reason}
        return await self.http.post(f"{self.public}/api/miniprogram/cancel", json=body)
