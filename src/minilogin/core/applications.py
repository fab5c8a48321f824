"""The rules of user pools and their applications, as administrators set them.

Like ``core/connection.py``, each check takes what the JSON held and answers the clean value or
raises ``InvalidRequest("invalid_<field>")``.

Redirect URIs are compared exactly at the authorization endpoint (OAuth 2.0 Security BCP
§4.1.3), so they are stored exactly as given: absolute http(s) URLs without a fragment
(RFC 6749 §3.1.2), https unless on this computer. A web origin is what a browser sends in the
``Origin`` header (RFC 6454 §6.2): ``scheme://host[:port]`` and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from urllib.parse import urlsplit

from minilogin.core.connection import apply_checks, boolean, choice, integer, text, url_problem
from minilogin.core.entities import Application, ApplicationType, Pool
from minilogin.core.errors import InvalidRequest, all_problems

#: A pool's slug is a path segment of its issuer and, with a pool domain, a DNS label.
POOL_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,29}[a-z0-9])?")
MAX_NAME = 64
MAX_URIS = 20
LIFETIMES: dict[str, tuple[int, int]] = {
    "id_token_lifetime": (60, 24 * 3600),
    "access_token_lifetime": (60, 24 * 3600),
    "refresh_token_lifetime": (3600, 365 * 24 * 3600),
}

#: ``id_token_signed_response_alg`` (OIDC Dynamic Client Registration 1.0 §2): RS256, which
#: OIDC Discovery 1.0 §3 requires every provider to offer, and ES256, shorter tokens.
ID_TOKEN_SIGNING_ALGS = ("RS256", "ES256")

APPLICATION_FIELDS = (
    "name",
    "redirect_uris",
    "web_origins",
    "post_logout_redirect_uris",
    *LIFETIMES,
    "id_token_signed_response_alg",
    "pkce_required",
    "resource_server",
)


def check_pool_slug(value: object) -> str:
    if not isinstance(value, str) or not POOL_SLUG.fullmatch(value):
        raise InvalidRequest("invalid_slug")
    return value


def check_pool_logo_url(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or url_problem(value) is not None:
        raise InvalidRequest("invalid_logo_url")
    return value


def new_pool(fields: Mapping[str, object]) -> Pool:
    with all_problems() as problems:
        slug = problems.check(lambda: check_pool_slug(fields.get("slug")))
        name = problems.check(lambda: _name(fields.get("name"), "invalid_name"))
        logo_url = problems.check(lambda: check_pool_logo_url(fields.get("logo_url")))
    # Both are set here: a missing one would have been raised above.
    return Pool(slug=slug or "", name=name or "", logo_url=logo_url)


def changed_pool(current: Pool, fields: Mapping[str, object]) -> Pool:
    """The slug is the issuer's path: every token and integration names it, so it stays."""
    if "slug" in fields and fields["slug"] != current.slug:
        raise InvalidRequest("slug_immutable")
    pool = replace(current)
    if "name" in fields:
        pool.name = _name(fields["name"], "invalid_name")
    if "logo_url" in fields:
        pool.logo_url = check_pool_logo_url(fields["logo_url"])
    return pool


def check_redirect_uri(value: object) -> str:
    if not isinstance(value, str) or url_problem(value) is not None:
        raise InvalidRequest("invalid_redirect_uris")
    return value


def check_post_logout_redirect_uri(value: object) -> str:
    if not isinstance(value, str) or url_problem(value) is not None:
        raise InvalidRequest("invalid_post_logout_redirect_uris")
    return value


def check_web_origin(value: object) -> str:
    """The origin, lowercased as browsers send it; a trailing ``/`` is forgiven."""
    if not isinstance(value, str):
        raise InvalidRequest("invalid_web_origins")
    origin = value[:-1] if value.endswith("/") else value
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise InvalidRequest("invalid_web_origins") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or "#" in origin
        or "@" in parts.netloc
        or any(c.isspace() for c in origin)
    ):
        raise InvalidRequest("invalid_web_origins")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _uris(value: object, check: Callable[[object], str], code: str) -> list[str]:
    """A list of distinct values in the order given."""
    if not isinstance(value, list) or len(value) > MAX_URIS:
        raise InvalidRequest(code)
    return list(dict.fromkeys(check(item) for item in value))


def _pkce_opt_out_allowed(application: Application) -> Application:
    """A public client has no secret: PKCE is all that binds its code to it."""
    if application.is_public and not application.pkce_required:
        raise InvalidRequest("invalid_pkce_required")
    return application


def _name(value: object, code: str) -> str:
    name = text(value, code, max_length=MAX_NAME)
    assert name is not None
    return name


def _signing_alg(value: object) -> str:
    if value not in ID_TOKEN_SIGNING_ALGS:
        raise InvalidRequest("invalid_id_token_signed_response_alg")
    assert isinstance(value, str)
    return value


def _lifetime(name: str) -> Callable[[object], int]:
    low, high = LIFETIMES[name]
    return lambda value: integer(value, f"invalid_{name}", low, high)


_CHECKS: dict[str, Callable[[object], object]] = {
    "name": lambda value: _name(value, "invalid_name"),
    "redirect_uris": lambda value: _uris(value, check_redirect_uri, "invalid_redirect_uris"),
    "web_origins": lambda value: _uris(value, check_web_origin, "invalid_web_origins"),
    "post_logout_redirect_uris": lambda value: _uris(
        value, check_post_logout_redirect_uri, "invalid_post_logout_redirect_uris"
    ),
    **{name: _lifetime(name) for name in LIFETIMES},
    "id_token_signed_response_alg": _signing_alg,
    "pkce_required": lambda value: boolean(value, "invalid_pkce_required"),
    "resource_server": lambda value: boolean(value, "invalid_resource_server"),
}


def _apply(application: Application, fields: Mapping[str, object]) -> Application:
    """Every field's rule is checked, and every broken one reported (``InvalidFields``)."""
    with all_problems() as problems:
        apply_checks(application, fields, _CHECKS, problems)
    return application


def new_application(pool_id: str, client_id: str, fields: Mapping[str, object]) -> Application:
    """An application from what the administrator gave: a single page app unless ``type``
    says ``web``. The caller gives a confidential one its secret."""
    with all_problems() as problems:
        kind = problems.check(
            lambda: choice(
                fields.get("type", ApplicationType.SPA.value), ApplicationType, "invalid_type"
            )
        )
        application = Application(
            pool_id=pool_id,
            client_id=client_id,
            name="",
            type=kind or ApplicationType.SPA,
        )
        problems.check(lambda: _apply(application, {"name": fields.get("name"), **fields}))
    return _pkce_opt_out_allowed(application)


def changed_application(current: Application, fields: Mapping[str, object]) -> Application:
    """A public client can't become confidential or back: its integrations are built for one."""
    if "type" in fields and fields["type"] != current.type.value:
        raise InvalidRequest("application_type_immutable")
    if "client_id" in fields and fields["client_id"] != current.client_id:
        raise InvalidRequest("client_id_immutable")
    return _pkce_opt_out_allowed(_apply(replace(current), fields))


def changed_fields(before: Application, after: Application) -> list[str]:
    return [name for name in APPLICATION_FIELDS if getattr(before, name) != getattr(after, name)]
