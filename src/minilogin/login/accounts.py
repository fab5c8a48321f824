"""Finding or making the account behind a confirmed scan, under the identity source's rules
(``core.association``), and carrying out the decision in the durable store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from minilogin.core.association import Decision, Outcome, decide
from minilogin.core.entities import IdentitySource, User, WeChatIdentity
from minilogin.core.errors import Conflict
from minilogin.core.qrlogin import Scanner
from minilogin.login import audit
from minilogin.wiring import Services


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


async def linked_user(svc: Services, pool_id: str, scanner: Scanner) -> Linked | None:
    """The user this WeChat identity is linked to: by unionid when WeChat gave one (it ties
    the platform's and a private mini program together), else by openid for this AppID."""
    identity = await svc.durable.find_identity(pool_id, scanner.app_id, scanner.openid)
    by_openid = identity is not None
    if identity is None and scanner.unionid:
        identity = await svc.durable.find_identity_by_unionid(pool_id, scanner.unionid)
    if identity is None:
        return None
    user = await svc.durable.get_user(pool_id, identity.user_id)
    return Linked(user, by_openid) if user is not None else None


def identity_of(pool_id: str, user_id: str, scanner: Scanner) -> WeChatIdentity:
    return WeChatIdentity(
        pool_id=pool_id,
        user_id=user_id,
        app_id=scanner.app_id,
        openid=scanner.openid,
        unionid=scanner.unionid,
    )


def _now(svc: Services) -> datetime:
    return datetime.fromtimestamp(svc.clock(), UTC)


async def log_in(svc: Services, user: User, profile: dict[str, str]) -> User:
    """Count the login and keep the nickname and avatar the mini program sent."""
    return await svc.durable.record_login(user.pool_id, user.id, _now(svc), profile)


async def link(svc: Services, user: User, scanner: Scanner) -> None:
    """Remember this AppID's openid for the user, unless it already is."""
    known = await svc.durable.find_identity(user.pool_id, scanner.app_id, scanner.openid)
    if known is None:
        await svc.durable.link_identity(identity_of(user.pool_id, user.id, scanner))


async def create(
    svc: Services,
    pool_id: str,
    scanner: Scanner,
    phone: str,
    profile: dict[str, str],
    *,
    take_from: User | None = None,
) -> User:
    """A new account with the phone number WeChat verified, linked to the scanner."""
    user = await svc.durable.create_user(
        User(
            pool_id=pool_id,
            phone=phone,
            phone_verified=True,
            nickname=profile.get("nickname"),
            avatar_url=profile.get("avatar_url"),
        ),
        identity_of(pool_id, "", scanner),
        take_unverified_phone=take_from is not None,
    )
    if take_from is not None:
        await audit.record(
            svc, "user.phone_released", pool_id=pool_id, subject=take_from.id, to=user.id
        )
    return user


async def resolve(
    svc: Services, source: IdentitySource, scanner: Scanner, phone: str, profile: dict[str, str]
) -> Resolution:
    pool_id = source.pool_id
    linked = await linked_user(svc, pool_id, scanner)
    phone_owner = None if linked else await svc.durable.find_user_by_phone(pool_id, phone)
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
            await link(svc, decision.user, scanner)
        return Resolution(decision, await log_in(svc, decision.user, profile))
    if decision.outcome is Outcome.CREATE:
        try:
            user = await create(
                svc, pool_id, scanner, phone, profile, take_from=decision.unverified_holder
            )
        except Conflict:
            # Another scan created this phone's account a moment ago: decide again with it.
            return await resolve(svc, source, scanner, phone, profile)
        return Resolution(decision, await log_in(svc, user, profile), created=True)
    return Resolution(decision)
