"""A pool's users, as administrators see and change them: search, details with the linked
WeChat identities and recent logins (from the audit log), create, change, block, delete, and
unlink an identity.

The checks of what an administrator may write into an account are here rather than in the
core because they only ever apply to this path; logins create accounts from what WeChat
verified, never from these fields.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from minilogin.admin import Actor, record
from minilogin.core.connection import boolean, text
from minilogin.core.entities import AuditEvent, User, WeChatIdentity
from minilogin.core.errors import Conflict, InvalidRequest, NotFound, all_problems
from minilogin.core.phone import to_e164
from minilogin.lookups import load_pool
from minilogin.ports import AuditRecorder, AuditStore, PoolStore, UserStore
from minilogin.storage.crypto import hash_password

#: Starts with a letter so that a username can never be mistaken for a phone number.
USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{2,31}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
MAX_EMAIL = 254
PASSWORD_LENGTH = (8, 128)
MAX_NICKNAME = 64
MAX_PAGE = 200
#: Past any pool's size, and within the 64-bit integers the databases take.
MAX_OFFSET = 10_000_000
#: The audit actions that mean "this user logged in".
LOGIN_ACTIONS = ("login.authorized", "binding.linked", "binding.created")
RECENT_LOGINS = 10


@dataclass(frozen=True, slots=True)
class UserPorts:
    pools: PoolStore
    users: UserStore
    audit_events: AuditStore
    audit: AuditRecorder


@dataclass(frozen=True, slots=True)
class UserDetails:
    user: User
    identities: list[WeChatIdentity]
    recent_logins: list[AuditEvent]


def check_username(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not USERNAME.fullmatch(value):
        raise InvalidRequest("invalid_username")
    return value.lower()


def check_email(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_EMAIL or not EMAIL.fullmatch(value.strip()):
        raise InvalidRequest("invalid_email")
    return value.strip()


def check_phone(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 32:
        raise InvalidRequest("invalid_phone")
    return to_e164(value)


def check_password(value: object) -> str | None:
    low, high = PASSWORD_LENGTH
    if value is None:
        return None
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise InvalidRequest("invalid_password")
    return value


async def search(
    ports: UserPorts, pool_slug: str, query: str | None, limit: int, offset: int
) -> tuple[list[User], int]:
    pool = await load_pool(ports.pools, pool_slug)
    return await ports.users.search_users(pool.id, query, min(limit, MAX_PAGE), offset)


async def _load(users: UserStore, pool_id: str, user_id: str) -> User:
    user = await users.get_user(pool_id, user_id)
    if user is None:
        raise NotFound("unknown_user")
    return user


async def details(ports: UserPorts, pool_slug: str, user_id: str) -> UserDetails:
    pool = await load_pool(ports.pools, pool_slug)
    user = await _load(ports.users, pool.id, user_id)
    identities = await ports.users.list_identities(pool.id, user_id)
    await ports.audit.flush()  # this instance's latest events count too
    logins = await ports.audit_events.search_audit_events(
        pool.id, action_prefixes=LOGIN_ACTIONS, subject=user_id, limit=RECENT_LOGINS
    )
    return UserDetails(user, identities, logins)


async def _apply(user: User, fields: Mapping[str, object]) -> User:
    """Every field's rule is checked, and every broken one reported (``InvalidFields``)."""
    user = replace(user)
    with all_problems() as problems:
        if "username" in fields:
            user.username = problems.check(lambda: check_username(fields["username"]))
        if "phone" in fields:
            phone = problems.check(lambda: check_phone(fields["phone"]))
            if phone != user.phone:
                # A new number is not verified unless the administrator says so below.
                user.phone, user.phone_verified = phone, False
        if "phone_verified" in fields:
            verified = problems.check(
                lambda: boolean(fields["phone_verified"], "invalid_phone_verified")
            )
            user.phone_verified = bool(verified)
        if user.phone_verified and user.phone is None:
            problems.found.append(InvalidRequest("invalid_phone_verified"))
        if "email" in fields:
            user.email = problems.check(lambda: check_email(fields["email"]))
        if "nickname" in fields:
            user.nickname = problems.check(
                lambda: text(
                    fields["nickname"], "invalid_nickname", max_length=MAX_NICKNAME, required=False
                )
            )
        if "blocked" in fields:
            user.blocked = bool(
                problems.check(lambda: boolean(fields["blocked"], "invalid_blocked"))
            )
        password = problems.check(lambda: check_password(fields.get("password")))
        if user.username is None and user.phone is None and not problems.found:
            problems.found.append(InvalidRequest("user_identifier_required"))
    if "password" in fields:
        # Argon2 is deliberately slow: hash off the event loop, once every field is good.
        user.password_hash = (
            None if password is None else await asyncio.to_thread(hash_password, password)
        )
    return user


def _changed(before: User, after: User) -> list[str]:
    names = ("username", "phone", "phone_verified", "email", "nickname", "blocked")
    changed = [name for name in names if getattr(before, name) != getattr(after, name)]
    if before.password_hash != after.password_hash:
        changed.append("password")
    return changed


async def create_user(
    ports: UserPorts, actor: Actor, pool_slug: str, fields: Mapping[str, object]
) -> User:
    pool = await load_pool(ports.pools, pool_slug)
    user = await _apply(User(pool_id=pool.id), fields)
    try:
        user = await ports.users.create_user(user)
    except Conflict as conflict:
        raise _admin_conflict(conflict) from None
    await record(ports.audit, actor, "user.created", pool_id=pool.id, subject=user.id)
    return user


async def update_user(
    ports: UserPorts, actor: Actor, pool_slug: str, user_id: str, fields: Mapping[str, object]
) -> User:
    pool = await load_pool(ports.pools, pool_slug)
    current = await _load(ports.users, pool.id, user_id)
    user = await _apply(current, fields)
    changed = _changed(current, user)
    if not changed:
        return current
    try:
        user = await ports.users.update_user(user)
    except Conflict as conflict:
        raise _admin_conflict(conflict) from None
    action = "user.updated"
    if changed == ["blocked"]:
        action = "user.blocked" if user.blocked else "user.unblocked"
    await record(ports.audit, actor, action, pool_id=pool.id, subject=user_id, changed=changed)
    return user


def _admin_conflict(conflict: Conflict) -> Conflict:
    """The store's ``phone_in_use`` tells a person at the phone to ask for association; an
    administrator needs to hear that another account has the number."""
    return Conflict("phone_taken") if conflict.code == "phone_in_use" else conflict


async def delete_user(ports: UserPorts, actor: Actor, pool_slug: str, user_id: str) -> None:
    pool = await load_pool(ports.pools, pool_slug)
    await ports.users.delete_user(pool.id, user_id)
    await record(ports.audit, actor, "user.deleted", pool_id=pool.id, subject=user_id)


async def unlink_identity(
    ports: UserPorts, actor: Actor, pool_slug: str, user_id: str, identity_id: str
) -> None:
    """The WeChat account no longer logs in to this user; its next scan is a newcomer's."""
    pool = await load_pool(ports.pools, pool_slug)
    await _load(ports.users, pool.id, user_id)
    await ports.users.unlink_identity(pool.id, user_id, identity_id)
    await record(
        ports.audit,
        actor,
        "user.identity_unlinked",
        pool_id=pool.id,
        subject=user_id,
        identity=identity_id,
    )
