"""How WeChat's answers and failures become typed errors.

WeChat's server API answers errors as ``{"errcode": n, "errmsg": "..."}``, nearly always with
HTTP 200 ("全局返回码说明" and the error tables of ``code2Session``, ``getPhoneNumber``,
``getUnlimitedQRCode`` and ``getStableAccessToken``). Each errcode becomes a
:class:`WeChatError` whose ``code`` is stable and says what went wrong in our terms; the
errcode and WeChat's errmsg ride along for the logs. Timeouts, refused connections and answers
that are neither WeChat's JSON nor an image become errors of their own.

Some errcodes mean different things per API (``getUnlimitedQRCode``'s table lists 45009 as
its limit of 5,000 calls a minute; for ``getuserphonenumber`` it is the paid quota of phone
verifications, which the phone-number button reports as errno 1400001): :data:`BY_API` holds
those. Errors that no retry can cure (a wrong AppSecret, a server outside the IP allowlist,
a page the released mini program lacks) are :class:`WeChatConfigurationError`, and 41030 is
its own :class:`WeChatInvalidPage`, so that callers can tell them apart.

Requests that carry the AppSecret (``jscode2session`` takes it in the query) or an access
token must not leak them: errors never include URLs, and httpx's request log is redacted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

import httpx

from minilogin.core.errors import UpstreamError
from minilogin.observability import metrics
from minilogin.wechat.transport import HttpDropped, HttpFailure, HttpTimeout, Reply, WeChatHttp

#: errcodes that mean "this access token is no longer good": refresh it once and retry.
TOKEN_REJECTED = frozenset({40001, 40014, 42001})

#: errcode -> (our code, what it means to a person reading the logs).
ERRCODES: dict[int, tuple[str, str]] = {
    -1: ("wechat_busy", "WeChat is busy; try again in a moment"),
    40001: (
        "wechat_invalid_credentials",
        "WeChat rejected the credentials: the AppSecret is wrong or the access token is not "
        "the latest",
    ),
    40013: ("wechat_invalid_credentials", "WeChat does not know this AppID"),
    40014: ("wechat_invalid_credentials", "WeChat rejected the access token as invalid"),
    40125: ("wechat_invalid_credentials", "The AppSecret does not match the AppID"),
    42001: ("wechat_invalid_credentials", "The access token has expired"),
    40164: (
        "wechat_ip_not_allowed",
        "This server's IP address is not on the mini program's IP allowlist",
    ),
    61004: (
        "wechat_ip_not_allowed",
        "This server's IP address is not on the mini program's IP allowlist",
    ),
    40029: (
        "wechat_invalid_code",
        "The code from the phone is invalid, expired or for another AppID",
    ),
    40163: ("wechat_code_used", "The code from the phone was already used"),
    40226: ("wechat_high_risk", "WeChat blocked this login: the user is rated high-risk"),
    45009: ("wechat_rate_limited", "The mini program has used up its quota for this API"),
    45011: ("wechat_rate_limited", "Too many calls to this API this minute"),
    # getUnlimitedQRCode: "最大32个可见字符，只支持数字，大小写英文以及部分特殊字符".
    40129: (
        "wechat_invalid_scene",
        "The scene is longer than 32 characters or has characters WeChat does not allow",
    ),
    40169: (
        "wechat_invalid_scene",
        "The scene is empty, longer than 32 characters or has characters WeChat does not allow",
    ),
    41030: (
        "wechat_invalid_page",
        "The page does not exist in the published mini program or is malformed",
    ),
    # getUnlimitedQRCode: "scancode_time为系统保留参数，不允许配置".
    85096: (
        "wechat_invalid_page",
        "The page carries scancode_time, a parameter WeChat reserves for itself",
    ),
    48001: (
        "wechat_api_unauthorized",
        "The mini program may not call this API (it may need WeChat verification)",
    ),
    40002: ("wechat_bad_request", "WeChat rejected the grant_type"),
    40097: ("wechat_bad_request", "WeChat rejected an argument"),
    41001: ("wechat_bad_request", "The access token was missing"),
    41002: ("wechat_bad_request", "The AppID was missing"),
    41004: ("wechat_bad_request", "The AppSecret was missing"),
    41008: ("wechat_bad_request", "The code was missing"),
    44002: ("wechat_bad_request", "The request body was empty"),
    47001: ("wechat_bad_request", "WeChat could not parse the request body"),
}

#: (api, errcode) -> (our code, meaning), where an API gives an errcode its own sense.
BY_API: dict[tuple[str, int], tuple[str, str]] = {
    # getUnlimitedQRCode: "调用分钟频率受限(5000次/分钟)"; WeChat answers 45009 past it.
    ("getwxacodeunlimit", 45009): (
        "wechat_rate_limited",
        "The mini program made more than 5,000 codes this minute (WeChat's per-minute limit)",
    ),
    # The phone-number verifications are a paid quota (手机号快速验证 额度); once it is used up
    # the button answers errno 1400001 and the server API 45009.
    ("getuserphonenumber", 45009): (
        "wechat_phone_quota",
        "The mini program has used up its quota of phone-number verifications",
    ),
    ("getuserphonenumber", 1400001): (
        "wechat_phone_quota",
        "The mini program has used up its quota of phone-number verifications",
    ),
    # getStableAccessToken: "强制刷新模式每天限用20次且需间隔30秒".
    ("stable_token", 45009): (
        "wechat_token_refresh_limited",
        "The mini program has used up today's 20 forced refreshes of its access token",
    ),
}

#: errcodes that no retry cures: the identity source's configuration (or WeChat's settings
#: for the mini program) must change first.
CONFIGURATION = frozenset({40013, 40125, 40164, 61004, 48001, 41030, 85096})
#: errcodes about the page a code opens, not about the mini program as a whole.
PAGE = frozenset({41030, 85096})

#: Codes worth retrying later: nothing about the request was wrong.
RETRYABLE = frozenset(
    {
        "wechat_busy",
        "wechat_rate_limited",
        "wechat_timeout",
        "wechat_unreachable",
        "wechat_token_refresh_limited",
    }
)

_ERRMSG_LIMIT = 300


class WeChatError(UpstreamError):
    """WeChat answered an error, timed out, could not be reached or answered nonsense.

    ``api`` names the call (``jscode2session``, ``stable_token``...), ``errcode`` and
    ``errmsg`` are WeChat's own when it answered one."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        api: str,
        errcode: int | None = None,
        errmsg: str | None = None,
    ) -> None:
        super().__init__(code, detail, errcode=errcode, api=api, errmsg=errmsg)
        self.api = api
        self.errmsg = errmsg

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE


class WeChatConfigurationError(WeChatError):
    """WeChat refuses the identity source's configuration (AppID, AppSecret, IP allowlist,
    permission to call the API, page): retrying cannot help until someone changes it. Shown
    in the console; the client backs off from it (:mod:`minilogin.wechat.backoff`)."""


class WeChatInvalidPage(WeChatConfigurationError):
    """41030 (or 85096) from ``getwxacodeunlimit``: with ``check_path`` the page must exist
    in the released mini program ("为 true 时 page 必须是已经发布的小程序存在的页面"). No
    code for that page can be made, so none is to be kept."""


def from_errcode(errcode: int, errmsg: str, api: str) -> WeChatError:
    code, meaning = BY_API.get(
        (api, errcode), ERRCODES.get(errcode, ("wechat_error", "WeChat answered an error"))
    )
    errmsg = errmsg[:_ERRMSG_LIMIT]
    detail = f"{meaning} ({api} errcode {errcode}: {errmsg})"
    kind = WeChatError
    if errcode in PAGE:
        kind = WeChatInvalidPage
    elif errcode in CONFIGURATION:
        kind = WeChatConfigurationError
    return kind(code, detail, api=api, errcode=errcode, errmsg=errmsg)


def bad_response(api: str, why: str) -> WeChatError:
    metrics.wechat_error(api, "bad_response")
    return WeChatError("wechat_bad_response", f"WeChat's answer to {api} {why}", api=api)


def errcode_of(body: dict[str, Any]) -> int:
    """The errcode of an answer; 0 when it has none (successful answers often leave it out)."""
    errcode = body.get("errcode", 0)
    if isinstance(errcode, bool) or not isinstance(errcode, int):
        return 0
    return errcode


def raise_for_errcode(body: dict[str, Any], api: str) -> None:
    errcode = errcode_of(body)
    if errcode != 0:
        metrics.wechat_error(api, errcode)
        errmsg = body.get("errmsg")
        raise from_errcode(errcode, errmsg if isinstance(errmsg, str) else "", api)


def json_object(reply: Reply, api: str) -> dict[str, Any]:
    """The answer's JSON object, whatever its Content-Type says (WeChat sometimes labels JSON
    ``text/plain``). An answer that is not one is a bad response, or a failure of WeChat's
    front end when the status says so."""
    try:
        body = json.loads(reply.body)
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    if reply.status >= 500:
        metrics.wechat_error(api, f"http_{reply.status}")
        raise WeChatError(
            "wechat_unreachable", f"WeChat answered {api} with HTTP {reply.status}", api=api
        )
    raise bad_response(api, f"is not a JSON object (HTTP {reply.status})")


async def send(
    http: WeChatHttp,
    method: str,
    url: str,
    api: str,
    *,
    params: Mapping[str, str] | None = None,
    json: Mapping[str, Any] | None = None,
) -> Reply:
    """One request to WeChat (``GET``, or ``POST`` of ``json``), with transport failures
    turned into ``wechat_timeout`` and ``wechat_unreachable``. The transport's failures carry
    no URL (it may carry the AppSecret or the access token), only the kind of failure."""
    metrics.wechat_call(api)
    try:
        # A transport's own timeouts may bound each read rather than the whole answer, and
        # transports that are not sockets (an ASGI app, in the tests) ignore them altogether:
        # the timeout also bounds the whole call, both tries.
        async with asyncio.timeout(http.timeout):
            try:
                return await _request(http, method, url, params, json)
            except HttpDropped:
                # A kept-alive connection the server closed as we reused it: the server
                # disconnected before answering, so the request is sent once more, on a new
                # connection. Had WeChat acted on it after all, the single-use codes make the
                # second answer a clean errcode (40163), never a second effect.
                return await _request(http, method, url, params, json)
    except (TimeoutError, HttpTimeout) as exc:
        metrics.wechat_error(api, "timeout")
        kind = exc.kind if isinstance(exc, HttpFailure) else type(exc).__name__
        timeout = WeChatError(
            "wechat_timeout", f"WeChat did not answer {api} in time ({kind})", api=api
        )
        raise timeout from None
    except HttpFailure as exc:
        metrics.wechat_error(api, "unreachable")
        unreachable = WeChatError(
            "wechat_unreachable", f"Could not reach WeChat for {api} ({exc.kind})", api=api
        )
        raise unreachable from None


async def _request(
    http: WeChatHttp,
    method: str,
    url: str,
    params: Mapping[str, str] | None,
    payload: Mapping[str, Any] | None,
) -> Reply:
    if method == "GET":
        return await http.get(url, params)
    return await http.post_json(url, payload or {}, params)


_SENSITIVE = re.compile(r"((?:secret|access_token)=)[^&#\s\"']+")


class RedactCredentials(logging.Filter):
    """Hides ``secret=`` and ``access_token=`` values in log records (httpx logs every request
    URL at INFO, and ``jscode2session`` carries the AppSecret in its query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _SENSITIVE.sub(r"\1***", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SENSITIVE.sub(r"\1***", str(arg)) if isinstance(arg, str | httpx.URL) else arg
                for arg in record.args
            )
        return True


def redact_http_logs() -> None:
    """Install :class:`RedactCredentials` on httpx's logger, once."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactCredentials) for f in logger.filters):
        logger.addFilter(RedactCredentials())
