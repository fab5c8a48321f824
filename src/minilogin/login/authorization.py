"""The last step of every successful QR login, whichever way the account was found: a
one-time authorization code for the browser, and the login moved to ``authorized``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

from minilogin.core import qrlogin as machine
from minilogin.core.claims import AMR_WECHAT_MP_QRCODE, user_claims
from minilogin.core.entities import User
from minilogin.core.errors import Conflict, Gone, NotFound
from minilogin.core.grants import AuthorizationCode
from minilogin.core.qrlogin import QRLogin, Scanner
from minilogin.core.tokens import new_secret
from minilogin.oidc import audit
from minilogin.oidc.authorize import bound_grant
from minilogin.ports import (
    AuditSink,
    AuthorizationCodeStore,
    AuthorizationRequestStore,
    Clock,
    CodeRedemption,
    QRLoginUpdates,
)


@dataclass(frozen=True, slots=True)
class AuthorizationPorts:
    """What ending a login with a code is handed."""

    codes: AuthorizationCodeStore
    qrlogins: QRLoginUpdates
    #: The hosted page's authorization requests: a login bound to one issues the relying
    #: party's grant (``oidc/authorize.py``).
    requests: AuthorizationRequestStore
    audit: AuditSink
    clock: Clock


async def authorize(
    ports: AuthorizationPorts,
    login: QRLogin,
    user: User,
    scanner: Scanner | None = None,
    *,
    ip: str | None,
    **detail: object,
) -> QRLogin:
    """Issue the code (OIDC Core §3.1.2.5), hand it to the login and write
    ``login.authorized`` to the audit log with ``detail``; ``scanner`` replaces the recorded
    one when the phone sent a nickname or avatar with its confirmation."""
    code = new_secret()
    grant = AuthorizationCode(
        pool=login.pool,
        client_id=login.client_id,
        user_id=user.id,
        code_challenge=login.code_challenge,
        scope=login.scope,
        auth_time=int(ports.clock()),
        amr=[AMR_WECHAT_MP_QRCODE],
        nonce=login.nonce,
        qrlogin_id=login.id,
    )
    # A login of the hosted page answers the relying party's authorization request.
    grant = await bound_grant(ports.requests, login.id, grant)
    # What its scope releases about the user just logged in: the exchange reads no user.
    grant = replace(grant, claims=user_claims(user, grant.scope))
    await ports.codes.put(code, grant, machine.CODE_LIFETIME)

    def change(current: QRLogin) -> QRLogin:
        if scanner is not None:
            current = replace(current, scanner=scanner)
        return machine.authorize(current, ports.clock(), user.id, code)

    authorized = await ports.qrlogins.update(login.id, change, seen=login)
    await audit.emit(
        ports.audit,
        "login.authorized",
        pool_id=login.pool_id,
        actor=user.id,
        subject=user.id,
        ip=ip,
        connection=login.connection,
        client_id=login.client_id,
        qrlogin=login.id,
        **detail,
    )
    return authorized


def consumption(qrlogins: QRLoginUpdates, clock: Clock) -> CodeRedemption:
    """What a redeemed code does to the QR login it ended with (``oidc/grants/``): the login
    is ``consumed``, its code gone."""

    async def consume(grant: AuthorizationCode) -> None:
        if grant.qrlogin_id is None:
            return
        # The QR login may have aged out of the store within the code's lifetime; the code
        # itself is the authority for the exchange.
        with contextlib.suppress(Conflict, Gone, NotFound):
            await qrlogins.update(grant.qrlogin_id, lambda cur: machine.consume(cur, clock()))

    return consume
