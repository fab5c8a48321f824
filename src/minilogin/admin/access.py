"""Who may administer: administrators (username and Argon2id password), their API tokens,
the settings' ``MINILOGIN_ADMIN_TOKEN``, and console sessions.

A console session lives in the ephemeral store under the SHA-256 of its cookie, with a CSRF
token the console's scripts send back in a header on every change (the synchronizer-token
pattern: a page on another site can make the browser send the cookie, never read the token).
Wrong passwords back off per username and address and per address, and the password is checked
against a decoy hash for unknown usernames so the answer takes as long either way.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from minilogin.admin import Actor, record
from minilogin.core.entities import Admin, ApiToken
from minilogin.core.errors import Forbidden, InvalidRequest, NotFound, Unauthorized
from minilogin.core.tokens import digest, new_secret
from minilogin.storage.crypto import hash_password, verify_password
from minilogin.wiring import Services

ADMIN_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{2,31}")
PASSWORD_LENGTH = (8, 128)
#: API tokens start with this, so that secret scanners and people can tell what they are.
TOKEN_PREFIX = "mla_"  # noqa: S105 - a prefix, not a secret
SETTINGS_TOKEN_ACTOR = "MINILOGIN_ADMIN_TOKEN"  # noqa: S105 - a name, not a secret
SESSION_TTL = 8 * 3600.0
#: ``last_used_at`` is written at most this often per token, not on every request.
TOUCH_INTERVAL = timedelta(minutes=1)
# The hash of a random password nobody knows: verifying against it costs what a real check costs.
_DECOY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$pL+8lmBbbVdcdDL6zrP4WQ"
    "$98KqGB0p/l0rP/SXfAoH7GC4W8+Rn2MEKULylIHPd8E"
)


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    admin_id: str
    username: str
    csrf: str


def check_admin_username(value: object) -> str:
    if not isinstance(value, str) or not ADMIN_USERNAME.fullmatch(value):
        raise InvalidRequest("invalid_username")
    return value.lower()


def check_admin_password(value: object) -> str:
    low, high = PASSWORD_LENGTH
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise InvalidRequest("invalid_password")
    return value


async def create_admin(svc: Services, actor: Actor, username: str, password: str) -> Admin:
    name = check_admin_username(username)
    password_hash = await asyncio.to_thread(hash_password, check_admin_password(password))
    admin = await svc.durable.create_admin(Admin(username=name, password_hash=password_hash))
    await record(svc, actor, "admin_created", pool_id=None, subject=admin.username)
    return admin


async def set_admin_password(svc: Services, actor: Actor, username: str, password: str) -> None:
    admin = await svc.durable.find_admin(username)
    if admin is None:
        raise NotFound("unknown_admin")
    password_hash = await asyncio.to_thread(hash_password, check_admin_password(password))
    await svc.durable.set_admin_password(admin.id, password_hash)
    await record(svc, actor, "admin_password_changed", pool_id=None, subject=admin.username)


async def create_api_token(
    svc: Services, actor: Actor, username: str | None, description: str | None
) -> str:
    """A new API token (shown only now), acting as ``username`` or, without one, as itself."""
    admin_id = None
    if username is not None:
        admin = await svc.durable.find_admin(username)
        if admin is None:
            raise NotFound("unknown_admin")
        admin_id = admin.id
    token = TOKEN_PREFIX + new_secret()
    stored = await svc.durable.create_api_token(
        ApiToken(token_hash=digest(token), admin_id=admin_id, description=description)
    )
    await record(svc, actor, "api_token_created", pool_id=None, subject=stored.id, admin=username)
    return token


def admin_body(admin: Admin) -> dict[str, object]:
    """What may be shown of an administrator: never the password hash."""
    return {
        "username": admin.username,
        "created_at": _iso(admin.created_at),
    }


def token_body(token: ApiToken, username: str | None) -> dict[str, object]:
    """What may be shown of an API token: never the token or its hash."""
    return {
        "id": token.id,
        "admin": username,
        "description": token.description,
        "created_at": _iso(token.created_at),
        "last_used_at": _iso(token.last_used_at),
    }


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


async def list_admins(svc: Services) -> list[Admin]:
    return await svc.durable.list_admins()


async def get_admin(svc: Services, username: str) -> Admin:
    admin = await svc.durable.find_admin(username)
    if admin is None:
        raise NotFound("unknown_admin")
    return admin


async def delete_admin(svc: Services, actor: Actor, username: str) -> None:
    """Remove an administrator and the API tokens made for them."""
    admin = await get_admin(svc, username)
    await svc.durable.delete_admin(admin.id)
    await record(svc, actor, "admin_deleted", pool_id=None, subject=admin.username)


async def list_api_tokens(svc: Services) -> list[tuple[ApiToken, str | None]]:
    """Every API token with the username it acts as (``None``: itself)."""
    names = {admin.id: admin.username for admin in await svc.durable.list_admins()}
    tokens = await svc.durable.list_api_tokens()
    return [(token, names.get(token.admin_id) if token.admin_id else None) for token in tokens]


async def get_api_token(svc: Services, token_id: str) -> tuple[ApiToken, str | None]:
    token = await svc.durable.get_api_token(token_id)
    if token is None:
        raise NotFound("unknown_api_token")
    admin = await svc.durable.get_admin(token.admin_id) if token.admin_id else None
    return token, admin.username if admin else None


async def describe_api_token(
    svc: Services, actor: Actor, token_id: str, description: str | None
) -> tuple[ApiToken, str | None]:
    await get_api_token(svc, token_id)
    await svc.durable.describe_api_token(token_id, description)
    await record(svc, actor, "api_token_updated", pool_id=None, subject=token_id)
    return await get_api_token(svc, token_id)


async def delete_api_token(svc: Services, actor: Actor, token_id: str) -> None:
    """Revoke an API token: it stops working at once."""
    await svc.durable.delete_api_token(token_id)
    await record(svc, actor, "api_token_deleted", pool_id=None, subject=token_id)


async def authenticate_token(svc: Services, token: str, ip: str | None) -> Actor:
    """The actor behind an ``Authorization: Bearer`` token, or ``Unauthorized``."""
    configured = svc.settings.admin_token
    if configured and hmac.compare_digest(token.encode(), configured.encode()):
        return Actor(SETTINGS_TOKEN_ACTOR, ip)
    stored = await svc.durable.find_api_token(digest(token)) if token else None
    if stored is None:
        raise Unauthorized("unauthorized")
    now = datetime.fromtimestamp(svc.clock(), UTC)
    if stored.last_used_at is None or now - stored.last_used_at > TOUCH_INTERVAL:
        await svc.durable.touch_api_token(stored.id, now)
    admin = await svc.durable.get_admin(stored.admin_id) if stored.admin_id else None
    return Actor(admin.username if admin else f"token:{stored.id}", ip)


def _session_key(session_id: str) -> str:
    return f"console:session:{digest(session_id)}"


async def log_in(
    svc: Services, username: object, password: object, ip: str
) -> tuple[str, ConsoleSession]:
    """A new console session (its cookie value and its record) for the right password."""
    name = username.strip().lower() if isinstance(username, str) else ""
    # Wrong passwords back off per account and IP, and per IP over all accounts: never per
    # account alone, which would let anyone lock the owner out (login/limits.py).
    failures = (("password.account_ip", f"console/{name}/{ip}"), ("password.ip", f"console/{ip}"))
    for rule, subject in failures:
        await svc.limits.check_failures(rule, subject)
    admin = await svc.durable.find_admin(name) if name else None
    given = password if isinstance(password, str) else ""
    valid = await asyncio.to_thread(
        verify_password, admin.password_hash if admin else _DECOY_HASH, given
    )
    if admin is None or not valid or not given:
        for rule, subject in failures:
            await svc.limits.count_failure(rule, subject)
        await record(svc, Actor(name or "?", ip), "login_failed", pool_id=None, subject=name)
        raise Unauthorized("invalid_admin_credentials")
    session_id = new_secret()
    session = ConsoleSession(admin_id=admin.id, username=admin.username, csrf=new_secret())
    await svc.ephemeral.set(_session_key(session_id), json.dumps(asdict(session)), SESSION_TTL)
    await record(svc, Actor(admin.username, ip), "login", pool_id=None, subject=admin.username)
    return session_id, session


async def console_session(svc: Services, session_id: str | None) -> ConsoleSession | None:
    if not session_id:
        return None
    text = await svc.ephemeral.get(_session_key(session_id))
    return None if text is None else ConsoleSession(**json.loads(text))


async def log_out(svc: Services, session_id: str | None) -> None:
    if session_id:
        await svc.ephemeral.delete(_session_key(session_id))


def check_csrf(session: ConsoleSession, token: str | None) -> None:
    if not token or not hmac.compare_digest(token.encode(), session.csrf.encode()):
        raise Forbidden("csrf_failed")
