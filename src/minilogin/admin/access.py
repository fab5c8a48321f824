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
from minilogin.ports import AdminStore, AuditRecorder, Clock, FailureLimits, KeyValues
from minilogin.storage.crypto import hash_password, verify_password
from minilogin.storage.ephemeral import keys

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
class AccessPorts:
    admins: AdminStore
    audit: AuditRecorder
    #: Where console sessions live (the ephemeral store).
    sessions: KeyValues
    limits: FailureLimits
    clock: Clock
    #: The settings' ``MINILOGIN_ADMIN_TOKEN``, if any.
    admin_token: str | None


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


async def create_admin(ports: AccessPorts, actor: Actor, username: str, password: str) -> Admin:
    name = check_admin_username(username)
    password_hash = await asyncio.to_thread(hash_password, check_admin_password(password))
    admin = await ports.admins.create_admin(Admin(username=name, password_hash=password_hash))
    await record(ports.audit, actor, "admin_created", pool_id=None, subject=admin.username)
    return admin


async def set_admin_password(
    ports: AccessPorts, actor: Actor, username: str, password: str
) -> None:
    admin = await ports.admins.find_admin(username)
    if admin is None:
        raise NotFound("unknown_admin")
    password_hash = await asyncio.to_thread(hash_password, check_admin_password(password))
    await ports.admins.set_admin_password(admin.id, password_hash)
    await record(ports.audit, actor, "admin_password_changed", pool_id=None, subject=admin.username)


async def create_api_token(
    ports: AccessPorts, actor: Actor, username: str | None, description: str | None
) -> str:
    """A new API token (shown only now), acting as ``username`` or, without one, as itself."""
    admin_id = None
    if username is not None:
        admin = await ports.admins.find_admin(username)
        if admin is None:
            raise NotFound("unknown_admin")
        admin_id = admin.id
    token = TOKEN_PREFIX + new_secret()
    stored = await ports.admins.create_api_token(
        ApiToken(token_hash=digest(token), admin_id=admin_id, description=description)
    )
    await record(
        ports.audit, actor, "api_token_created", pool_id=None, subject=stored.id, admin=username
    )
    return token


async def list_admins(admins: AdminStore) -> list[Admin]:
    return await admins.list_admins()


async def get_admin(admins: AdminStore, username: str) -> Admin:
    admin = await admins.find_admin(username)
    if admin is None:
        raise NotFound("unknown_admin")
    return admin


async def delete_admin(ports: AccessPorts, actor: Actor, username: str) -> None:
    """Remove an administrator and the API tokens made for them."""
    admin = await get_admin(ports.admins, username)
    await ports.admins.delete_admin(admin.id)
    await record(ports.audit, actor, "admin_deleted", pool_id=None, subject=admin.username)


async def list_api_tokens(admins: AdminStore) -> list[tuple[ApiToken, str | None]]:
    """Every API token with the username it acts as (``None``: itself)."""
    names = {admin.id: admin.username for admin in await admins.list_admins()}
    tokens = await admins.list_api_tokens()
    return [(token, names.get(token.admin_id) if token.admin_id else None) for token in tokens]


async def get_api_token(admins: AdminStore, token_id: str) -> tuple[ApiToken, str | None]:
    token = await admins.get_api_token(token_id)
    if token is None:
        raise NotFound("unknown_api_token")
    admin = await admins.get_admin(token.admin_id) if token.admin_id else None
    return token, admin.username if admin else None


async def describe_api_token(
    ports: AccessPorts, actor: Actor, token_id: str, description: str | None
) -> tuple[ApiToken, str | None]:
    await get_api_token(ports.admins, token_id)
    await ports.admins.describe_api_token(token_id, description)
    await record(ports.audit, actor, "api_token_updated", pool_id=None, subject=token_id)
    return await get_api_token(ports.admins, token_id)


async def delete_api_token(ports: AccessPorts, actor: Actor, token_id: str) -> None:
    """Revoke an API token: it stops working at once."""
    await ports.admins.delete_api_token(token_id)
    await record(ports.audit, actor, "api_token_deleted", pool_id=None, subject=token_id)


async def authenticate_token(ports: AccessPorts, token: str, ip: str | None) -> Actor:
    """The actor behind an ``Authorization: Bearer`` token, or ``Unauthorized``."""
    configured = ports.admin_token
    if configured and hmac.compare_digest(token.encode(), configured.encode()):
        return Actor(SETTINGS_TOKEN_ACTOR, ip)
    stored = await ports.admins.find_api_token(digest(token)) if token else None
    if stored is None:
        raise Unauthorized("unauthorized")
    now = datetime.fromtimestamp(ports.clock(), UTC)
    if stored.last_used_at is None or now - stored.last_used_at > TOUCH_INTERVAL:
        await ports.admins.touch_api_token(stored.id, now)
    admin = await ports.admins.get_admin(stored.admin_id) if stored.admin_id else None
    return Actor(admin.username if admin else f"token:{stored.id}", ip)


def _session_key(session_id: str) -> str:
    return keys.console_session(digest(session_id))


async def log_in(
    ports: AccessPorts, username: object, password: object, ip: str
) -> tuple[str, ConsoleSession]:
    """A new console session (its cookie value and its record) for the right password."""
    name = username.strip().lower() if isinstance(username, str) else ""
    # Wrong passwords back off per account and IP, and per IP over all accounts: never per
    # account alone, which would let anyone lock the owner out (login/limits.py).
    failures = (("password.account_ip", f"console/{name}/{ip}"), ("password.ip", f"console/{ip}"))
    for rule, subject in failures:
        await ports.limits.check_failures(rule, subject)
    admin = await ports.admins.find_admin(name) if name else None
    given = password if isinstance(password, str) else ""
    valid = await asyncio.to_thread(
        verify_password, admin.password_hash if admin else _DECOY_HASH, given
    )
    if admin is None or not valid or not given:
        for rule, subject in failures:
            await ports.limits.count_failure(rule, subject)
        await record(
            ports.audit, Actor(name or "?", ip), "login_failed", pool_id=None, subject=name
        )
        raise Unauthorized("invalid_admin_credentials")
    session_id = new_secret()
    session = ConsoleSession(admin_id=admin.id, username=admin.username, csrf=new_secret())
    await ports.sessions.set(_session_key(session_id), json.dumps(asdict(session)), SESSION_TTL)
    await record(
        ports.audit, Actor(admin.username, ip), "login", pool_id=None, subject=admin.username
    )
    return session_id, session


async def console_session(sessions: KeyValues, session_id: str | None) -> ConsoleSession | None:
    if not session_id:
        return None
    text = await sessions.get(_session_key(session_id))
    return None if text is None else ConsoleSession(**json.loads(text))


async def log_out(sessions: KeyValues, session_id: str | None) -> None:
    if session_id:
        await sessions.delete(_session_key(session_id))


def check_csrf(session: ConsoleSession, token: str | None) -> None:
    if not token or not hmac.compare_digest(token.encode(), session.csrf.encode()):
        raise Forbidden("csrf_failed")
