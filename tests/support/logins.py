"""One whole QR login against a running server, the short way: the tokens it ends with."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from tests.support.actors import Browser, Phone


async def tokens_of_a_login(
    web: httpx.AsyncClient, public: str, issuer: str, user: str
) -> dict[str, Any]:
    browser = Browser(web, issuer)
    phone = Phone(web, public, user)
    login = await browser.create()
    appid, scene = await browser.read_code(login)
    scanned = await phone.scan(appid, scene)
    assert scanned.status_code == 200, scanned.text
    assert (await phone.confirm(appid, scanned.json()["session"])).json() == {
        "status": "authorized"
    }
    code = (await browser.status(login))["code"]
    exchanged = await browser.exchange(login, code)
    assert exchanged.status_code == 200, exchanged.text
    tokens: dict[str, Any] = exchanged.json()
    return tokens


def kid_of(token: str) -> str:
    """The ``kid`` of a JWS's protected header."""
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert isinstance(header["kid"], str)
    return header["kid"]
