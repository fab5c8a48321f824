"""The rules of a "WeChat · PC mini program scan code" identity source (a connection).

An administrator's input arrives as whatever JSON held, so every check takes ``object`` and
answers the clean value or raises ``InvalidRequest("invalid_<field>")``: the code names the
field, and its message (``core/messages.py``) states the rule, so the console can show it next
to that field. The same scheme holds for applications and pools (``core/applications.py``).

The web URL rule lives here too, since applications' redirect URIs follow it: absolute http(s),
no credentials, no fragment, and https unless the host is this computer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from enum import StrEnum
from functools import partial
from typing import TypeVar
from urllib.parse import urlsplit

from minilogin.core.entities import Association, EnvVersion, IdentitySource, LoginMode
from minilogin.core.errors import InvalidRequest, Problems, all_problems

UNIQUE_ID = re.compile(r"[a-z0-9-]{1,31}")
#: WeChat AppIDs are ``wx`` and 16 hexadecimal digits; test and sandbox ones are freer, so only
#: the prefix and a safe alphabet are required (it catches an AppSecret pasted in the wrong box).
APP_ID = re.compile(r"wx[A-Za-z0-9_-]{1,62}")
#: An AppSecret is 32 hexadecimal digits at WeChat; any visible ASCII is accepted.
APP_SECRET = re.compile(r"[\x21-\x7e]{1,128}")
#: A mini program page path as ``getwxacodeunlimit`` takes it: no leading ``/``, no query.
PAGE = re.compile(r"[A-Za-z0-9_\-.]+(?:/[A-Za-z0-9_\-.]+)*")
MAX_PAGE = 128
MAX_DISPLAY_NAME = 64
MAX_URL = 2048
QR_EXPIRES_MIN = 30
QR_EXPIRES_MAX = 600
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: The fields an administrator may set; ``logo_url`` and ``app_secret_set`` are only read.
FIELDS = (
    "unique_id",
    "display_name",
    "callback_url",
    "private_deployment",
    "app_id",
    "app_secret",
    "login_mode",
    "association",
    "page",
    "env_version",
    "qr_expires_in",
)

E = TypeVar("E", bound=StrEnum)


def url_problem(value: str, *, allow_query: bool = True) -> str | None:
    """Why ``value`` is not an acceptable web URL to send a browser to, or None when it is."""
    if len(value) > MAX_URL:
        return f"longer than {MAX_URL} characters"
    if _CONTROL.search(value) or any(c.isspace() for c in value):
        return "contains spaces or control characters"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "not a URL"
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return "not an absolute http(s) URL"
    if parts.username is not None or parts.password is not None:
        return "has credentials"
    if "#" in value:
        return "has a fragment"
    if not allow_query and parts.query:
        return "has a query"
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return "https is required outside localhost"
    if port == 0:
        return "has port 0"
    return None


def is_loopback_url(value: str) -> bool:
    try:
        return urlsplit(value).hostname in LOOPBACK_HOSTS
    except ValueError:
        return False


def text(value: object, code: str, *, max_length: int, required: bool = True) -> str | None:
    """A single line of human text, trimmed; empty means absent."""
    if value is None:
        if required:
            raise InvalidRequest(code)
        return None
    if not isinstance(value, str) or _CONTROL.search(value):
        raise InvalidRequest(code)
    value = value.strip()
    if not value:
        if required:
            raise InvalidRequest(code)
        return None
    if len(value) > max_length:
        raise InvalidRequest(code)
    return value


def choice(value: object, kind: type[E], code: str) -> E:
    if not isinstance(value, str):
        raise InvalidRequest(code)
    try:
        return kind(value)
    except ValueError:
        raise InvalidRequest(code) from None


def integer(value: object, code: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(code)
    return value


def boolean(value: object, code: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequest(code)
    return value


def check_unique_id(value: object) -> str:
    if not isinstance(value, str) or not UNIQUE_ID.fullmatch(value):
        raise InvalidRequest("invalid_unique_id")
    return value


def check_display_name(value: object) -> str:
    name = text(value, "invalid_display_name", max_length=MAX_DISPLAY_NAME)
    assert name is not None
    return name


def check_callback_url(value: object) -> str | None:
    """Optional; when given, where the browser goes after a login through this source."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or url_problem(value) is not None:
        raise InvalidRequest("invalid_callback_url")
    return value


def check_app_id(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not APP_ID.fullmatch(value.strip()):
        raise InvalidRequest("invalid_app_id")
    return value.strip()


def check_app_secret(value: object) -> str | None:
    """None keeps the stored AppSecret: it is write-only, so a form never has it to send back."""
    if value is None:
        return None
    if not isinstance(value, str) or not APP_SECRET.fullmatch(value):
        raise InvalidRequest("invalid_app_secret")
    return value


def check_page(value: object) -> str:
    if (
        not isinstance(value, str)
        or len(value.strip()) > MAX_PAGE
        or not PAGE.fullmatch(value.strip())
    ):
        raise InvalidRequest("invalid_page")
    return value.strip()


def check_qr_expires_in(value: object) -> int:
    return integer(value, "invalid_qr_expires_in", QR_EXPIRES_MIN, QR_EXPIRES_MAX)


_CHECKS: dict[str, Callable[[object], object]] = {
    "display_name": check_display_name,
    "callback_url": check_callback_url,
    "private_deployment": lambda value: boolean(value, "invalid_private_deployment"),
    "app_id": check_app_id,
    "login_mode": lambda value: choice(value, LoginMode, "invalid_login_mode"),
    "association": lambda value: choice(value, Association, "invalid_association"),
    "page": check_page,
    "env_version": lambda value: choice(value, EnvVersion, "invalid_env_version"),
    "qr_expires_in": check_qr_expires_in,
}


def apply_checks(
    target: object,
    fields: Mapping[str, object],
    checks: Mapping[str, Callable[[object], object]],
    problems: Problems,
) -> None:
    """Set each given field that passes its check; keep the errors of every other one."""
    for name, check in checks.items():
        if name in fields:
            before = len(problems.found)
            value = problems.check(partial(check, fields[name]))
            if len(problems.found) == before:
                setattr(target, name, value)


def _apply(source: IdentitySource, fields: Mapping[str, object]) -> IdentitySource:
    """Every field's rule is checked, and every broken one reported (``InvalidFields``)."""
    with all_problems() as problems:
        apply_checks(source, fields, _CHECKS, problems)
        secret = problems.check(lambda: check_app_secret(fields.get("app_secret")))
        if secret is not None:
            source.app_secret = secret
        invalid = {problem.code for problem in problems.found}
        if source.private_deployment:
            # The pool's own mini program: without both credentials no code could be generated.
            if source.app_id is None and "invalid_app_id" not in invalid:
                problems.found.append(InvalidRequest("invalid_app_id"))
            if source.app_secret is None and "invalid_app_secret" not in invalid:
                problems.found.append(InvalidRequest("invalid_app_secret"))
    return source


def new_source(pool_id: str, fields: Mapping[str, object]) -> IdentitySource:
    """A source from the fields an administrator gave; the rest keep their defaults."""
    with all_problems() as problems:
        unique_id = problems.check(lambda: check_unique_id(fields.get("unique_id")))
        source = IdentitySource(pool_id=pool_id, unique_id=unique_id or "", display_name="")
        # The display name is required: checked as given, even when it was left out.
        problems.check(
            lambda: _apply(source, {"display_name": fields.get("display_name"), **fields})
        )
    return source


def changed_source(current: IdentitySource, fields: Mapping[str, object]) -> IdentitySource:
    """``current`` with the given fields changed. The unique ID names the source in every
    integration (``connection`` of the QR login API), so it can never change."""
    if "unique_id" in fields and fields["unique_id"] != current.unique_id:
        raise InvalidRequest("unique_id_immutable")
    return _apply(replace(current), fields)


def changed_fields(before: IdentitySource, after: IdentitySource) -> list[str]:
    """Which fields differ, for the audit log (never their values: one is a secret)."""
    return [name for name in FIELDS if getattr(before, name) != getattr(after, name)]
