"""The binding step (account identity association "ask binding"): the PC links the scanned
WeChat identity to an existing account, proven by its password, or creates a new account.

Wrong passwords don't end the QR login, but the fifth one cancels it; wrong passwords for one
account from one address, and from one address over all accounts, are also limited across QR
logins (``login/limits.py``), so no one can guess a password by making codes, and no one can
lock the owner out by failing from elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from minilogin.core import qrlogin as machine
from minilogin.core.entities import User
from minilogin.core.errors import Conflict, Forbidden, Gone, InvalidRequest
from minilogin.core.phone import to_e164
from minilogin.core.qrlogin import QRLogin, Status
from minilogin.login import accounts
from minilogin.login.accounts import AccountPorts
from minilogin.oidc import audit
from minilogin.ports import (
    AuditSink,
    Authorizer,
    Clock,
    Counters,
    FailureLimits,
    QRLoginStore,
    UserStore,
)
from minilogin.storage.crypto import hash_password, verify_password
from minilogin.storage.ephemeral import keys

MAX_WRONG_PASSWORDS = 5
#: Checked when no account matches, so a wrong name costs as long as a wrong password.
_DECOY_HASH = hash_password("minilogin-decoy-password")


@dataclass(frozen=True, slots=True)
class BindingPorts:
    """What the binding step is handed."""

    users: UserStore
    qrlogins: QRLoginStore
    #: Wrong passwords per QR login, all instances together.
    counters: Counters
    limits: FailureLimits
    audit: AuditSink
    clock: Clock
    accounts: AccountPorts
    authorize: Authorizer


def _require_binding_state(login: QRLogin) -> None:
    if login.status is Status.EXPIRED:
        raise Gone("qrlogin_expired")
    if login.status is not Status.NEEDS_BINDING:
        raise Conflict(f"qrlogin_{login.status.value}")


async def _find_account(ports: BindingPorts, pool_id: str, identifier: str) -> User | None:
    """An account by username, else by phone number (any common way of writing it)."""
    user = await ports.users.find_user_by_username(pool_id, identifier)
    if user is not None:
        return user
    try:
        phone = to_e164(identifier)
    except InvalidRequest:
        return None
    return await ports.users.find_user_by_phone(pool_id, phone)


async def _wrong_password(ports: BindingPorts, login: QRLogin, ip: str | None) -> None:
    wrong = await ports.counters.incr(
        keys.wrong_binding_passwords(login.id), login.expires_at - ports.clock()
    )
    await audit.emit(
        ports.audit, "binding.failed", pool_id=login.pool_id, ip=ip, qrlogin=login.id, attempt=wrong
    )
    if wrong >= MAX_WRONG_PASSWORDS:
        await ports.qrlogins.update(
            login.id, lambda cur: machine.cancel(cur, ports.clock(), "too_many_attempts")
        )
        await audit.emit(
            ports.audit, "binding.locked", pool_id=login.pool_id, ip=ip, qrlogin=login.id
        )
        raise Forbidden("too_many_attempts")
    raise InvalidRequest("invalid_credentials", remaining=MAX_WRONG_PASSWORDS - wrong)


async def bind(
    ports: BindingPorts, login: QRLogin, identifier: str, password: str, ip: str | None
) -> QRLogin:
    """Link the scanner to the account ``identifier`` names, if ``password`` is its password."""
    _require_binding_state(login)
    assert login.scanner is not None
    identifier = identifier.strip()
    failures = (
        ("password.account_ip", f"binding/{login.pool_id}/{identifier.lower()}/{ip}"),
        ("password.ip", f"binding/{ip}"),
    )
    for rule, subject in failures:
        await ports.limits.check_failures(rule, subject)
    user = await _find_account(ports, login.pool_id, identifier)
    stored_hash = user.password_hash if user is not None and user.password_hash else _DECOY_HASH
    if not verify_password(stored_hash, password) or user is None or not user.password_hash:
        for rule, subject in failures:
            await ports.limits.count_failure(rule, subject)
        await _wrong_password(ports, login, ip)
    assert user is not None
    if user.blocked:
        raise Forbidden("account_blocked")
    for identity in await ports.users.list_identities(login.pool_id, user.id):
        if identity.app_id == login.scanner.app_id and identity.openid != login.scanner.openid:
            raise Conflict("account_already_linked")
    await accounts.link(ports.accounts, user, login.scanner)
    user = await accounts.log_in(ports.accounts, user, _profile(login))
    authorized = await ports.authorize(
        login, user, ip=ip, created=False, linked=True, via="binding"
    )
    await audit.emit(ports.audit, "binding.linked", pool_id=login.pool_id, subject=user.id, ip=ip)
    return authorized


async def create(ports: BindingPorts, login: QRLogin, ip: str | None) -> QRLogin:
    """A new account with the verified phone, unless the source lets only existing ones in."""
    _require_binding_state(login)
    assert login.scanner is not None
    assert login.phone is not None
    if login.login_only:
        raise Forbidden("login_only")
    if await ports.users.find_user_by_phone(login.pool_id, login.phone) is not None:
        raise Conflict("phone_in_use")
    user = await accounts.create(
        ports.accounts, login.pool_id, login.scanner, login.phone, _profile(login)
    )
    authorized = await ports.authorize(
        login, user, ip=ip, created=True, linked=False, via="binding"
    )
    await audit.emit(ports.audit, "binding.created", pool_id=login.pool_id, subject=user.id, ip=ip)
    return authorized


def _profile(login: QRLogin) -> dict[str, str]:
    scanner = login.scanner
    if scanner is None:
        return {}
    return {
        key: value
        for key, value in (("nickname", scanner.nickname), ("avatar_url", scanner.avatar_url))
        if value
    }
