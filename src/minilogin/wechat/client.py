"""The async client of the three WeChat server APIs a scan-code login needs.

- ``code2Session`` (``GET sns/jscode2session``): the ``wx.login`` code -> openid, unionid;
- ``getPhoneNumber`` (``POST wxa/business/getuserphonenumber``): the phone-number button's
  code -> the verified phone number;
- ``getUnlimitedQRCode`` (``POST wxa/getwxacodeunlimit``): a mini program code for a scene.

The last two take an access token from :class:`~minilogin.wechat.types.AccessTokens`
(:class:`~minilogin.wechat.token_cache.AccessTokenCache` in the wiring);
when WeChat says the token is no longer good (40001, 40014, 42001) the client hands the rejected
token back to the cache, which finds the current one (see there), and retries once. Every
failure is a :class:`~minilogin.wechat.errors.WeChatError`; those no retry cures
(:class:`~minilogin.wechat.errors.WeChatConfigurationError`) are backed off from
(:mod:`minilogin.wechat.backoff`). The base URL is WeChat's (``https://api.weixin.qq.com``) or
the sandbox's, which the client cannot tell apart.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from minilogin.observability import metrics
from minilogin.wechat.backoff import Backoff
from minilogin.wechat.errors import (
    PAGE,
    TOKEN_REJECTED,
    WeChatConfigurationError,
    bad_response,
    errcode_of,
    json_object,
    raise_for_errcode,
    redact_http_logs,
    send,
)
from minilogin.wechat.transport import Reply, WeChatHttp
from minilogin.wechat.types import AccessTokens, MiniProgram, PhoneNumber, Session

T = TypeVar("T")

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


def _is_image(reply: Reply) -> bool:
    body = reply.body
    return reply.content_type.lower().startswith("image/") and (
        body.startswith(_PNG_MAGIC) or body.startswith(_JPEG_MAGIC)
    )


def _token_rejected(reply: Reply, api: str) -> bool:
    if _is_image(reply):
        return False
    try:
        body = json.loads(reply.body)
    except ValueError:
        return False
    if isinstance(body, dict) and errcode_of(body) in TOKEN_REJECTED:
        metrics.wechat_error(api, errcode_of(body))
        return True
    return False


def _text(body: dict[str, Any], key: str, api: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise bad_response(api, f"has no {key}")
    return value


class WeChatClient:
    """The three calls, for any mini program whose credentials the caller names."""

    def __init__(
        self,
        http: WeChatHttp,
        base_url: str,
        tokens: AccessTokens,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._tokens = tokens
        self.backoff = Backoff(clock)
        redact_http_logs()

    async def _guarded(
        self, app: MiniProgram, api: str, page: str | None, call: Callable[[], Awaitable[T]]
    ) -> T:
        """``call``, unless WeChat refused one of its scopes for good a moment ago."""
        scopes = scopes_of(app, api, page)
        for scope in scopes.values():
            self.backoff.check(scope)
        try:
            result = await call()
        except WeChatConfigurationError as error:
            self.backoff.failed(scopes[_scope_kind(error, page)], error)
            raise
        for scope in scopes.values():
            self.backoff.succeeded(scope)
        return result

    async def code_to_session(self, app: MiniProgram, js_code: str) -> Session:
        """``code2Session``: who scanned, from the code ``wx.login`` gave the mini program."""
        return await self._guarded(
            app, "jscode2session", None, lambda: self._code_to_session(app, js_code)
        )

    async def _code_to_session(self, app: MiniProgram, js_code: str) -> Session:
        api = "jscode2session"
        params = {
            "appid": app.app_id,
            "secret": app.app_secret,
            "js_code": js_code,
            "grant_type": "authorization_code",
        }
        response = await send(
            self._http, "GET", f"{self._base}/sns/jscode2session", api, params=params
        )
        body = json_object(response, api)
        raise_for_errcode(body, api)
        unionid = body.get("unionid")
        return Session(
            openid=_text(body, "openid", api),
            session_key=_text(body, "session_key", api),
            unionid=unionid if isinstance(unionid, str) and unionid else None,
        )

    async def get_phone_number(
        self, app: MiniProgram, code: str, *, openid: str | None = None
    ) -> PhoneNumber:
        """``getPhoneNumber``: the phone number WeChat verified, from the button's code.

        With ``openid`` WeChat also checks that the code was given to that user ("openid: 用户
        openid，填入后会校验openid和code的绑定关系"): the person who scanned, not someone
        who sent their own phone code for another's login."""
        payload = {"code": code}
        if openid is not None:
            payload["openid"] = openid
        return await self._guarded(
            app, "getuserphonenumber", None, lambda: self._get_phone_number(app, payload)
        )

    async def _get_phone_number(self, app: MiniProgram, payload: dict[str, str]) -> PhoneNumber:
        api = "getuserphonenumber"
        url = f"{self._base}/wxa/business/getuserphonenumber"
        response = await self._post_with_token(app, api, url, payload)
        body = json_object(response, api)
        raise_for_errcode(body, api)
        info = body.get("phone_info")
        if not isinstance(info, dict):
            raise bad_response(api, "has no phone_info")
        country_code = info.get("countryCode")
        # Documented as a string, shown as a number in WeChat's own example: both occur.
        if isinstance(country_code, int) and not isinstance(country_code, bool):
            country_code = str(country_code)
        digits = country_code.lstrip("+") if isinstance(country_code, str) else ""
        if not (digits.isascii() and digits.isdigit()):
            raise bad_response(api, "has no countryCode")
        return PhoneNumber(
            phone_number=_text(info, "phoneNumber", api),
            pure_phone_number=_text(info, "purePhoneNumber", api),
            country_code=digits,
        )

    async def get_unlimited_code(
        self,
        app: MiniProgram,
        scene: str,
        *,
        page: str | None,
        env_version: str = "release",
        width: int = 430,
        check_path: bool | None = None,
    ) -> bytes:
        """``getUnlimitedQRCode``: the image (JPEG, or PNG, bytes) of a mini program code that
        opens ``page`` (the home page when ``None``) with ``scene``.

        ``check_path`` defaults to true for the released version only: then WeChat answers
        41030 (:class:`~minilogin.wechat.errors.WeChatInvalidPage`) for a page the released
        mini program lacks instead of making a code that fails when scanned. A trial or
        development version is not released, so its pages cannot be checked ("为 false 时允许
        小程序未发布或者 page 不存在")."""
        if check_path is None:
            check_path = env_version == "release"
        checked = check_path

        async def call() -> bytes:
            return await self._get_unlimited_code(app, scene, page, env_version, width, checked)

        where = f"{page or '(home page)'}@{env_version}"
        return await self._guarded(app, "getwxacodeunlimit", where, call)

    async def _get_unlimited_code(
        self,
        app: MiniProgram,
        scene: str,
        page: str | None,
        env_version: str,
        width: int,
        check_path: bool,
    ) -> bytes:
        api = "getwxacodeunlimit"
        payload: dict[str, Any] = {
            "scene": scene,
            "check_path": check_path,
            "env_version": env_version,
            "width": width,
        }
        if page is not None:
            payload["page"] = page
        response = await self._post_with_token(
            app, api, f"{self._base}/wxa/getwxacodeunlimit", payload
        )
        if _is_image(response):
            return response.body
        # A failure is JSON, with HTTP 200 like a success.
        body = json_object(response, api)
        raise_for_errcode(body, api)
        raise bad_response(api, "is neither an image nor an error")

    async def _post_with_token(
        self, app: MiniProgram, api: str, url: str, payload: dict[str, Any]
    ) -> Reply:
        token = await self._tokens.get(app)
        response = await self._post(api, url, token, payload)
        if _token_rejected(response, api):
            token = await self._tokens.get(app, rejected=token)
            response = await self._post(api, url, token, payload)
        return response

    async def _post(self, api: str, url: str, token: str, payload: dict[str, Any]) -> Reply:
        params = {"access_token": token}
        return await send(self._http, "POST", url, api, params=params, json=payload)


def _fingerprint(app: MiniProgram) -> str:
    return hashlib.sha256(f"{app.app_id}\n{app.app_secret}".encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=4096)
def scopes_of(app: MiniProgram, api: str, page: str | None) -> Mapping[str, str]:
    """The scopes a call depends on, by kind: the credentials (AppID and AppSecret, named by a
    fingerprint so that fixing the secret starts afresh), the API, and the page when there is
    one. Remembered: every WeChat call asks, and hashing the AppSecret at each showed in a
    login's profile (0.4 % of its server CPU)."""
    credentials = f"mini program {app.app_id} (AppSecret {_fingerprint(app)})"
    scopes = {"credentials": credentials, "api": f"{api} of {credentials}"}
    if page is not None:
        scopes["page"] = f"page {page} of {credentials}"
    return scopes


def _scope_kind(error: WeChatConfigurationError, page: str | None) -> str:
    if error.errcode in PAGE and page is not None:
        return "page"
    if error.errcode == 48001 or error.errcode in PAGE:
        return "api"
    return "credentials"
