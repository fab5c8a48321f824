"""An emulator of the part of WeChat's server API a scan-code login uses, and of the phones
that talk to it.

Its answers follow WeChat's documentation and observed behaviour: ``getAccessToken``
(``cgi-bin/token``), ``getStableAccessToken`` (``cgi-bin/stable_token``), ``code2Session``
(``sns/jscode2session``), ``getUnlimitedQRCode`` (``wxa/getwxacodeunlimit``) and
``getPhoneNumber`` (``wxa/business/getuserphonenumber``): the same JSON, the same errcodes
and errmsgs (with a ``rid``), HTTP 200 for errors, codes that are single-use and live five
minutes, access tokens that a forced refresh invalidates.

It knows every AppID: the first secret used with an AppID becomes that mini program's
AppSecret. A mini program code is a standard QR code of the phone simulator's URL, sent as
WeChat sends its codes: a JPEG of the requested width, tens of KB at the default 430 px.

It checks requests by WeChat's documented rules, written here on their own: it must never share
the server's validation, or it could not disagree with it.

The state lives in this object and time comes from an injectable clock; the HTTP layer
(``routes.py``) only parses requests and delays answers when a fault says so.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import phonenumbers
import segno
from PIL import Image

from minilogin.core.errors import InvalidRequest

#: The paths of WeChat's API the sandbox answers, below ``/_sandbox/wechat/``.
PATHS = (
    "cgi-bin/token",
    "cgi-bin/stable_token",
    "sns/jscode2session",
    "wxa/getwxacodeunlimit",
    "wxa/business/getuserphonenumber",
)

#: WeChat's errmsg for each errcode the sandbox answers (a ``rid`` is appended, as WeChat does).
ERRMSGS: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40013: "invalid appid",
    40014: "invalid access_token",
    40029: "invalid code",
    40097: "invalid args",
    40125: "invalid appsecret",
    40129: "invalid scene",
    40163: "code been used",
    40164: "invalid ip, not in whitelist",
    40169: "invalid length for scene, or the data is not json string",
    40226: "code blocked",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    41030: "invalid page",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit mustslower retry next minute",
    47001: "data format error",
    48001: "api unauthorized",
    85096: "scancode_time param is not allowed",
}

#: The pages of the released mini program: those of the shipped mini program's ``app.json``
#: (a test keeps them equal). ``check_path: true`` accepts only these.
PUBLISHED_PAGES = frozenset({"pages/login/login"})
#: getUnlimitedQRCode's scene: "最大32个可见字符，只支持数字，大小写英文以及部分特殊字符：
#: !#$&'()*+,/:;=?@-._~".
SCENE_ALPHABET = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$&'()*+,/:;=?@-._~"
)
SCENE_LIMIT = 32
#: getUnlimitedQRCode: "调用分钟频率受限(5000次/分钟)", per AppID; 45009 beyond.
CODES_PER_MINUTE = 5000
#: JPEG quality of the codes: real ones at width 430 weigh tens of KB.
JPEG_QUALITY = 90

ENV_VERSIONS = frozenset({"release", "trial", "develop"})
WIDTH_RANGE = (280, 1280)
#: WeChat renews a token this long before it expires, and keeps a replaced one alive as long.
OVERLAP = 300.0
#: A forced refresh of a stable token works at most this often, and this many times a day.
FORCE_INTERVAL = 30.0
FORCE_PER_DAY = 20

_PAGE = re.compile(r"[A-Za-z0-9_\-.]+(/[A-Za-z0-9_\-.]+)*")
_NAME_LIMIT = 64

Answer = dict[str, Any] | bytes


@dataclass(slots=True)
class Fault:
    path: str
    errcode: int
    times: int
    delay_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "errcode": self.errcode,
            "times": self.times,
            "delay_ms": self.delay_ms,
        }


@dataclass(slots=True)
class SandboxUser:
    name: str
    phone: str
    unionid: str | None = None
    nickname: str | None = None

    def to_json(self, openid: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "user": self.name,
            "phone": self.phone,
            "unionid": self.unionid,
            "nickname": self.nickname,
        }
        if openid is not None:
            data["openid"] = openid
        return data


@dataclass(slots=True)
class _Code:
    appid: str
    user: str
    issued_at: float
    used: bool = False


@dataclass(slots=True)
class _StableToken:
    token: str
    expires_at: float
    forced_at: float | None = None
    forced_day: int = -1
    forced_today: int = 0


@dataclass(slots=True)
class WeChatEmulator:
    """WeChat's server API and the simulated phones, in memory."""

    public_url: str
    clock: Callable[[], float] = time.time
    token_lifetime: float = 7200.0
    code_lifetime: float = 300.0
    #: ``countryCode`` is documented as a string but WeChat's own example shows a number.
    country_code_as_number: bool = False
    codes_per_minute: int = CODES_PER_MINUTE
    calls: Counter[str] = field(default_factory=Counter)
    _code_calls: dict[str, tuple[int, int]] = field(default_factory=dict)  # appid -> minute, n
    _secrets: dict[str, str] = field(default_factory=dict)
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> appid, expiry
    _plain: dict[str, str] = field(default_factory=dict)  # appid -> latest cgi-bin/token token
    _stable: dict[str, _StableToken] = field(default_factory=dict)
    _login_codes: dict[str, _Code] = field(default_factory=dict)
    _phone_codes: dict[str, _Code] = field(default_factory=dict)
    _users: dict[str, SandboxUser] = field(default_factory=dict)
    _faults: dict[str, list[Fault]] = field(default_factory=dict)
    _swept_at: float = 0.0

    def __post_init__(self) -> None:
        self.public_url = self.public_url.rstrip("/")

    # WeChat's answers ---------------------------------------------------------------------

    def error(self, errcode: int) -> dict[str, Any]:
        rid = "-".join(secrets.token_hex(4) for _ in range(3))
        return {"errcode": errcode, "errmsg": f"{ERRMSGS.get(errcode, 'system error')} rid: {rid}"}

    def begin_call(self, path: str) -> Fault | None:
        """Count a call to ``path`` and take the fault it should suffer, if any."""
        self.calls[path] += 1
        queue = self._faults.get(path)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return fault

    def token(self, query: Mapping[str, str]) -> Answer:
        """``getAccessToken``: every call gives a new token; the previous one keeps working
        for five more minutes."""
        if query.get("grant_type") != "client_credential":
            return self.error(40002)
        appid = query.get("appid", "")
        if errcode := self._check_app(appid, query.get("secret", "")):
            return self.error(errcode)
        now = self.clock()
        previous = self._plain.get(appid)
        if previous in self._tokens:
            expiry = min(self._tokens[previous][1], now + OVERLAP)
            self._tokens[previous] = (appid, expiry)
        token = self._issue(appid, now)
        self._plain[appid] = token
        return {"access_token": token, "expires_in": int(self.token_lifetime)}

    def stable_token(self, body: bytes) -> Answer:
        """``getStableAccessToken``: the same token until five minutes before it expires; a
        forced refresh replaces it at once (and the replaced token stops working), at most
        every 30 s and 20 times a day."""
        data = _json_object(body)
        if isinstance(data, int):
            return self.error(data)
        if data.get("grant_type") != "client_credential":
            return self.error(40002)
        appid, secret = data.get("appid"), data.get("secret")
        if errcode := self._check_app(appid, secret):
            return self.error(errcode)
        assert isinstance(appid, str)
        force = data.get("force_refresh", False)
        if not isinstance(force, bool):
            return self.error(40097)
        now = self.clock()
        state = self._stable.setdefault(appid, _StableToken(token="", expires_at=0.0))
        if force and (state.forced_at is None or now - state.forced_at >= FORCE_INTERVAL):
            day = int(now // 86400)
            if day == state.forced_day and state.forced_today >= FORCE_PER_DAY:
                return self.error(45009)
            self._tokens.pop(state.token, None)
            state.token, state.expires_at = self._issue(appid, now), now + self.token_lifetime
            state.forced_today = state.forced_today + 1 if day == state.forced_day else 1
            state.forced_at, state.forced_day = now, day
        elif now >= state.expires_at - OVERLAP:
            # The renewed token's predecessor keeps working until it expires.
            state.token, state.expires_at = self._issue(appid, now), now + self.token_lifetime
        return {"access_token": state.token, "expires_in": int(state.expires_at - now)}

    def jscode2session(self, query: Mapping[str, str]) -> Answer:
        """``code2Session``: a ``wx.login`` code, once, within five minutes, for its AppID."""
        appid = query.get("appid", "")
        if errcode := self._check_app(appid, query.get("secret", "")):
            return self.error(errcode)
        js_code = query.get("js_code", "")
        if not js_code:
            return self.error(41008)
        if query.get("grant_type") != "authorization_code":
            return self.error(40002)
        code = self._login_codes.get(js_code)
        if code is None or code.appid != appid or self._expired(code):
            return self.error(40029)
        if code.used:
            return self.error(40163)
        code.used = True
        user = self._user(code.user)
        answer: dict[str, Any] = {
            "session_key": base64.b64encode(secrets.token_bytes(16)).decode(),
            "openid": openid_of(appid, user.name),
        }
        if user.unionid:
            answer["unionid"] = user.unionid
        return answer

    def unlimited_code(self, query: Mapping[str, str], body: bytes) -> Answer:
        """``getUnlimitedQRCode``: a JPEG QR code of the phone simulator's URL for the scene.

        ``check_path`` (true unless false is sent) accepts only a page of the released mini
        program (41030 otherwise); false accepts any well-formed page. A page with a leading
        ``/`` or a query is 41030 either way ("根路径前不要填加 /，不能携带参数"), and
        ``scancode_time`` is reserved (85096)."""
        appid = self._token_owner(query)
        if isinstance(appid, int):
            return self.error(appid)
        minute = int(self.clock() // 60)
        counted_minute, count = self._code_calls.get(appid, (minute, 0))
        count = count + 1 if counted_minute == minute else 1
        self._code_calls[appid] = (minute, count)
        if count > self.codes_per_minute:
            return self.error(45009)
        data = _json_object(body)
        if isinstance(data, int):
            return self.error(data)
        scene = data.get("scene")
        if not isinstance(scene, str) or not scene:
            return self.error(40169)
        if len(scene) > SCENE_LIMIT or not set(scene) <= SCENE_ALPHABET:
            return self.error(40129)
        page = data.get("page") or None
        check_path = data.get("check_path", True)
        env_version = data.get("env_version", "release")
        width = data.get("width", 430)
        if not isinstance(check_path, bool) or not isinstance(env_version, str):
            return self.error(40097)
        if env_version not in ENV_VERSIONS:
            return self.error(40097)
        if isinstance(width, bool) or not isinstance(width, int):
            return self.error(40097)
        if not WIDTH_RANGE[0] <= width <= WIDTH_RANGE[1]:
            return self.error(40097)
        if isinstance(page, str) and "scancode_time" in page:
            return self.error(85096)
        if page is not None and (
            not isinstance(page, str)
            or not _PAGE.fullmatch(page)
            or (check_path and page not in PUBLISHED_PAGES)
        ):
            return self.error(41030)
        return self.code_image(appid, scene, width)

    def phone_number(self, query: Mapping[str, str], body: bytes) -> Answer:
        """``getPhoneNumber``: a phone-number button's code, once, within five minutes."""
        appid = self._token_owner(query)
        if isinstance(appid, int):
            return self.error(appid)
        data = _json_object(body)
        if isinstance(data, int):
            return self.error(data)
        value, openid = data.get("code"), data.get("openid")
        if not isinstance(value, str) or not isinstance(openid, str | None):
            return self.error(47001)
        code = self._phone_codes.get(value)
        if code is None or code.appid != appid or code.used or self._expired(code):
            return self.error(40029)
        # "openid: 填入后会校验openid和code的绑定关系": a code of another user is invalid.
        if openid is not None and openid != openid_of(appid, code.user):
            return self.error(40029)
        code.used = True
        return {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": self._phone_info(self._user(code.user).phone, appid, code.issued_at),
        }

    def code_image(self, appid: str, scene: str, width: int) -> bytes:
        """A QR code (error correction H, four-module quiet zone) of the phone simulator's URL,
        ``width`` pixels square, as a colour JPEG like WeChat's. The modules are scaled to the
        width smoothly, not by whole pixels: the grey edges weigh in the JPEG as WeChat's
        round, anti-aliased dots do."""
        url = f"{self.public_url}/_sandbox/phone?appid={quote(appid, safe='')}"
        url += f"&scene={quote(scene, safe='')}"
        # One fixed data mask: choosing the best of the eight (ISO/IEC 18004 §7.8.3) was four
        # fifths of the drawing's CPU, and any mask makes a valid code; WeChat's own codes are
        # not QR codes at all, so the sandbox needs only a readable one. Its drawing is what
        # the mini program's calls queue behind while a code pool fills.
        qr = segno.make(url, error="h", micro=False, mask=0)
        buffer = io.BytesIO()
        qr.save(buffer, kind="png", scale=1, border=4)
        modules = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
        code = modules.resize((width, width), Image.Resampling.BICUBIC).convert("RGB")
        out = io.BytesIO()
        code.save(out, format="JPEG", quality=JPEG_QUALITY)
        return out.getvalue()

    # The simulated phones ---------------------------------------------------------------

    def login_code(self, appid: object, user: object) -> str:
        """What ``wx.login`` gives ``user`` in the mini program ``appid``."""
        code = secrets.token_urlsafe(24)
        self._login_codes[code] = self._new_code(appid, user)
        return code

    def phone_code(self, appid: object, user: object) -> str:
        """What the phone-number button gives ``user`` in the mini program ``appid``."""
        code = secrets.token_hex(32)
        self._phone_codes[code] = self._new_code(appid, user)
        return code

    def user(self, name: object) -> SandboxUser:
        """The simulated WeChat user ``name``, created on first use."""
        return self._user(_name(name, "user"))

    def update_user(self, name: object, changes: object) -> SandboxUser:
        if not isinstance(changes, dict):
            raise InvalidRequest("invalid_request", "the body must be a JSON object")
        unknown = set(changes) - {"phone", "unionid", "nickname"}
        if unknown:
            raise InvalidRequest("invalid_request", f"unknown fields: {', '.join(sorted(unknown))}")
        user = self.user(name)
        phone = user.phone
        if "phone" in changes:
            phone = _e164(changes["phone"])
        unionid = _optional_text(changes, "unionid", user.unionid)
        nickname = _optional_text(changes, "nickname", user.nickname)
        user.phone, user.unionid, user.nickname = phone, unionid, nickname
        return user

    def openid(self, appid: object, user: object) -> str:
        return openid_of(_name(appid, "appid"), _name(user, "user"))

    # Faults and statistics ----------------------------------------------------------------

    def add_fault(self, spec: object) -> Fault:
        if not isinstance(spec, dict):
            raise InvalidRequest("invalid_request", "the body must be a JSON object")
        path = spec.get("path")
        if not isinstance(path, str) or path.strip("/") not in PATHS:
            raise InvalidRequest("invalid_request", f"path must be one of {', '.join(PATHS)}")
        fault = Fault(
            path=path.strip("/"),
            errcode=_int(spec, "errcode", -1, -(2**31), 2**31 - 1),
            times=_int(spec, "times", 1, 1, 10_000),
            delay_ms=_int(spec, "delay_ms", 0, 0, 60_000),
        )
        self._faults.setdefault(fault.path, []).append(fault)
        return fault

    def clear_faults(self) -> None:
        self._faults.clear()

    def stats(self) -> dict[str, Any]:
        return {"calls": dict(self.calls)}

    # Internals --------------------------------------------------------------------------------

    def _check_app(self, appid: object, secret: object) -> int:
        if not isinstance(appid, str) or not appid:
            return 41002
        if not isinstance(secret, str) or not secret:
            return 41004
        known = self._secrets.setdefault(appid, secret)
        return 0 if secrets.compare_digest(known.encode(), secret.encode()) else 40125

    def _issue(self, appid: str, now: float) -> str:
        # Tokens that expired a while ago are forgotten; until then they answer 42001.
        for token, (_, expiry) in list(self._tokens.items()):
            if expiry + self.token_lifetime < now:
                del self._tokens[token]
        token = f"{secrets.randbelow(90) + 10}_{secrets.token_urlsafe(60)}"
        self._tokens[token] = (appid, now + self.token_lifetime)
        return token

    def _token_owner(self, query: Mapping[str, str]) -> str | int:
        token = query.get("access_token", "")
        if not token:
            return 41001
        entry = self._tokens.get(token)
        if entry is None:
            return 40001
        appid, expiry = entry
        return 42001 if self.clock() >= expiry else appid

    def _new_code(self, appid: object, user: object) -> _Code:
        code = _Code(_name(appid, "appid"), self.user(user).name, self.clock())
        self._forget_expired_codes()
        return code

    def _forget_expired_codes(self) -> None:
        # One sweep per code lifetime keeps the cost per code constant however many are issued.
        if self.clock() - self._swept_at < self.code_lifetime:
            return
        self._swept_at = self.clock()
        for codes in (self._login_codes, self._phone_codes):
            for key in [key for key, code in codes.items() if self._expired(code)]:
                del codes[key]

    def _expired(self, code: _Code) -> bool:
        return self.clock() - code.issued_at >= self.code_lifetime

    def _user(self, name: str) -> SandboxUser:
        user = self._users.get(name)
        if user is None:
            user = self._users[name] = SandboxUser(name, default_phone(name))
        return user

    def _phone_info(self, phone: str, appid: str, issued_at: float) -> dict[str, Any]:
        number = phonenumbers.parse(phone)
        country = str(number.country_code)
        national = phonenumbers.national_significant_number(number)
        return {
            # Mainland numbers come without the country code, others with it.
            "phoneNumber": national if country == "86" else f"+{country}{national}",
            "purePhoneNumber": national,
            "countryCode": int(country) if self.country_code_as_number else country,
            "watermark": {"timestamp": int(issued_at), "appid": appid},
        }


def openid_of(appid: str, user: str) -> str:
    """A user's openid in a mini program: stable, different per AppID, 28 characters like
    WeChat's."""
    digest = hashlib.sha256(f"openid:{appid}:{user}".encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


def default_phone(user: str) -> str:
    """A mainland mobile number (+86 138…) derived from the user's name."""
    digest = int.from_bytes(hashlib.sha256(f"phone:{user}".encode()).digest()[:8], "big")
    return f"+86138{digest % 10**8:08d}"


def _json_object(body: bytes) -> dict[str, Any] | int:
    """The request's JSON object, or the errcode WeChat answers for a body that is not one."""
    if not body.strip():
        return 44002
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return 47001
    return data if isinstance(data, dict) else 47001


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("invalid_request", f"{what} is required")
    value = value.strip()
    if len(value) > _NAME_LIMIT or not value.isprintable():
        raise InvalidRequest(
            "invalid_request", f"{what} must be at most {_NAME_LIMIT} printable characters"
        )
    return value


def _e164(value: object) -> str:
    try:
        if not isinstance(value, str) or not value.startswith("+"):
            raise ValueError
        number = phonenumbers.parse(value)
    except (ValueError, phonenumbers.NumberParseException):
        number = None
    if (
        number is None
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != value
    ):
        raise InvalidRequest("invalid_phone", "phone must be an E.164 number like +8613800138000")
    return value


def _optional_text(changes: dict[str, Any], key: str, current: str | None) -> str | None:
    if key not in changes:
        return current
    value = changes[key]
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > _NAME_LIMIT or not value.isprintable():
        raise InvalidRequest(
            "invalid_request", f"{key} must be at most {_NAME_LIMIT} printable characters"
        )
    return value


def _int(spec: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest("invalid_request", f"{key} must be an integer from {low} to {high}")
    return value
