"""Finding or making the account behind a confirmed scan, under the identity source's rules
(``core.association``), and carrying out the decision in the durable store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from minilogin.core.association import Decision, Outcome, decide
from minilogin.core.entities import IdentitySource, User, WeChatIdentity
from minilogin.core.errors import Conflict
from minilogin.core.qrlogin import Scanner
from minilogin.oidc import audit
from minilogin.ports import AuditSink, Clock, UserStore


@dataclass(frozen=True, slots=True)
class AccountPorts:
    """What finding and making accounts is handed."""

    users: UserStore
    audit: AuditSink
    clock: Clock


@dataclass(frozen=True, slots=True)
class Resolution:
    """What happened: a user to log in, or why none (binding needed, or refused)."""

    decision: Decision
    user: User | None = None
    created: bool = False


@dataclass(frozen=True, slots=True)
class Linked:
    """The user a WeChat identity is linked to, and whether through this very openid (then
    there is nothing to remember) or through the unionid of another mini program."""

    user: User
    by_openid: bool


async def linked_user(ports: AccountPorts, pool_id: str, scanner: Scanner) -> Linked | None:
    """The user this WeChat identity is linked to: by unionid when WeChat gave one (it ties
    the platform's and a private mini program together), else by openid for this AppID."""
    identity = await ports.users.find_identity(pool_id, scanner.app_id, scanner.openid)
    by_openid = identity is not None
    if identity is None and scanner.unionid:
        identity = await ports.users.find_identity_by_unionid(pool_id, scanner.unionid)
    if identity is None:
        return None
    user = await ports.users.get_user(pool_id, identity.user_id)
    return Linked(user, by_openid) if user is not None else None


def identity_of(pool_id: str, user_id: str, scanner: Scanner) -> WeChatIdentity:
    return WeChatIdentity(
        pool_id=pool_id,
        user_id=user_id,
        app_id=scanner.app_id,
        openid=scanner.openid,
        unionid=scanner.unionid,
    )


def _now(ports: AccountPorts) -> datetime:
    return datetime.fromtimestamp(ports.clock(), UTC)


async def log_in(ports: AccountPorts, user: User, profile: dict[str, str]) -> User:
    """Count the login and keep the nickname and avatar the mini program sent."""
    return await ports.users.record_login(user.pool_id, user.id, _now(ports), profile)


async def link(ports: AccountPorts, user: User, scanner: Scanner) -> None:
    """Remember this AppID's openid for the user, unless it already is."""
    known = await ports.users.find_identity(user.pool_id, scanner.app_id, scanner.openid)
    if known is None:
        await ports.users.link_identity(identity_of(user.pool_id, user.id, scanner))


async def create(
    ports: AccountPorts,
    pool_id: str,
    scanner: Scanner,
    phone: str,
    profile: dict[str, str],
    *,
    take_from: User | None = None,
) -> User:
    """A new account with the phone number WeChat verified, linked to the scanner, and its
    first login counted: one transaction where creating it and counting the login took two."""
    user = await ports.users.create_user(
        User(
            pool_id=pool_id,
            phone=phone,
            phone_verified=True,
            nickname=profile.get("nickname"),
            avatar_url=profile.get("avatar_url"),
            login_count=1,
            last_login_at=_now(ports),
        ),
        identity_of(pool_id, "", scanner),
        take_unverified_phone=take_from is not None,
    )
    if take_from is not None:
        await audit.emit(
            ports.audit, "user.phone_released", pool_id=pool_id, subject=take_from.id, to=user.id
        )
    return user


async def resolve(
    ports: AccountPorts,
    source: IdentitySource,
    scanner: Scanner,
    phone: str,
    profile: dict[str, str],
) -> Resolution:
    pool_id = source.pool_id
    # Most logins are of a returning person, linked through this very openid and not blocked:
    # that user logs in whatever the source's rules (``core.association``), so it is found and
    # the login counted in one step. Anyone else (not linked, linked through a unionid, or
    # blocked) is looked up and decided below.
    returning = await ports.users.record_login_by_identity(
        pool_id, scanner.app_id, scanner.openid, _now(ports), profile
    )
    if returning is not None:
        decision = decide(
            login_mode=source.login_mode,
            association=source.association,
            linked=returning,
            phone_owner=None,
        )
        return Resolution(decision, returning)
    linked = await linked_user(ports, pool_id, scanner)
    phone_owner = None if linked else await ports.users.find_user_by_phone(pool_id, phone)
    decision = decide(
        login_mode=source.login_mode,
        association=source.association,
        linked=linked.user if linked else None,
        phone_owner=phone_owner,
    )
    if decision.outcome in (Outcome.LOGIN, Outcome.LINK) and decision.user is not None:
        if linked is None or not linked.by_openid:
            # LOGIN through a unionid known from another mini program also remembers this
            # openid; LINK remembers it for the phone's owner.
            await link(ports, decision.user, scanner)
        return Resolution(decision, await log_in(ports, decision.user, profile))
    if decision.outcome is Outcome.CREATE:
        try:
            user = await create(
                ports, pool_id, scanner, phone, profile, take_from=decision.unverified_holder
            )
        except Conflict:
            # Another scan created this phone's account a moment ago: decide again with it.
            return await resolve(ports, source, scanner, phone, profile)
        return Resolution(decision, user, created=True)
    return Resolution(decision)
