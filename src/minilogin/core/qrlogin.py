"""The QR login state machine (DESIGN.md, "States of a QR login").

::

    pending ──scan──▶ scanned ──confirm──▶ authorized ──token exchange──▶ consumed
       │                 │   └──confirm──▶ needs_binding ──bind/create──▶ authorized
       └───────┬─────────┴──────────────────────┘
               ▼
       cancelled | expired   (terminal)

Every transition is a pure function from a ``QRLogin`` and the current time to a new
``QRLogin``; a transition that the diagram does not allow raises ``Conflict`` and changes
nothing. Expiry is evaluated lazily: a login whose deadline has passed *is* expired, whoever
looks at it, so no timer is needed for correctness.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from minilogin.core.errors import Conflict, Gone

#: How long an authorization code stays exchangeable (API.md §2: "Codes … live 60 s").
CODE_LIFETIME = 60


class Status(StrEnum):
    PENDING = "pending"
    SCANNED = "scanned"
    NEEDS_BINDING = "needs_binding"
    AUTHORIZED = "authorized"
    CONSUMED = "consumed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.CONSUMED, Status.CANCELLED, Status.EXPIRED})

#: The edges of the diagram; anything else is refused.
ALLOWED: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.SCANNED, Status.CANCELLED, Status.EXPIRED}),
    Status.SCANNED: frozenset(
        {Status.AUTHORIZED, Status.NEEDS_BINDING, Status.CANCELLED, Status.EXPIRED}
    ),
    Status.NEEDS_BINDING: frozenset({Status.AUTHORIZED, Status.CANCELLED, Status.EXPIRED}),
    Status.AUTHORIZED: frozenset({Status.CONSUMED, Status.EXPIRED}),
    Status.CONSUMED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.EXPIRED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who asks, as the phone shows it: the browser, its IP and an approximate place."""

    browser: str = ""
    ip: str = ""
    location: str = ""


@dataclass(frozen=True, slots=True)
class Scanner:
    """The WeChat identity that scanned first, and what it chose to show of itself."""

    app_id: str
    openid: str
    unionid: str | None = None
    nickname: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class MiniProgramSession:
    """The mini program's handle on one scanned QR login (API.md §3 ``session``)."""

    qrlogin_id: str
    app_id: str
    openid: str


@dataclass(frozen=True, slots=True)
class QRLogin:
    id: str
    pool: str  # the pool's slug, which names its issuer
    pool_id: str
    client_id: str
    connection: str
    app_id: str
    scene: str
    secret_hash: str
    code_challenge: str
    created_at: float
    expires_at: float
    status: Status = Status.PENDING
    scope: str = "openid"
    login_only: bool = False  # while binding: only an existing account may be linked
    nonce: str | None = None
    state: str | None = None
    request: RequestContext = RequestContext()
    scanner: Scanner | None = None
    phone: str | None = None  # the verified phone, kept while the PC binds an account
    user_id: str | None = None
    code: str | None = None
    error: str | None = None
    updated_at: float = 0.0
    #: Number matching (a recycled code's login): the digits the PC shows, and the numbers
    #: the phone offers, fixed at creation so that scanning again reveals nothing new.
    match: str | None = None
    match_choices: tuple[str, ...] = ()

    def current(self, now: float) -> QRLogin:
        """This login as it is at ``now``: expired once its deadline has passed."""
        if not self.status.terminal and now >= self.expires_at:
            return replace(
                self, status=Status.EXPIRED, code=None, error=self.error, updated_at=self.expires_at
            )
        return self

    def expires_in(self, now: float) -> int:
        return max(0, int(self.expires_at - now))


def _move(login: QRLogin, now: float, to: Status, **changes: object) -> QRLogin:
    login = login.current(now)
    if to not in ALLOWED[login.status]:
        if login.status is Status.EXPIRED:
            raise Gone("qrlogin_expired")
        raise Conflict(f"qrlogin_{login.status.value}", status=login.status.value)
    return replace(login, status=to, updated_at=now, **changes)  # type: ignore[arg-type]


def scan(login: QRLogin, now: float, scanner: Scanner) -> QRLogin:
    """The first scanner wins; the same person scanning again (the mini program reopened)
    gets the same login back; anyone else gets ``already_scanned``."""
    current = login.current(now)
    if current.scanner is not None and current.status in (Status.SCANNED, Status.NEEDS_BINDING):
        if (current.scanner.app_id, current.scanner.openid) == (scanner.app_id, scanner.openid):
            return current
        raise Conflict("already_scanned")
    if current.status is not Status.PENDING and not current.status.terminal:
        raise Conflict("already_scanned")
    return _move(login, now, Status.SCANNED, scanner=scanner)


def authorize(login: QRLogin, now: float, user_id: str, code: str) -> QRLogin:
    """The user is known: hand the browser a one-time code, living ``CODE_LIFETIME``."""
    return _move(
        login,
        now,
        Status.AUTHORIZED,
        user_id=user_id,
        code=code,
        expires_at=now + CODE_LIFETIME,
    )


def require_binding(login: QRLogin, now: float, phone: str, *, login_only: bool) -> QRLogin:
    """No account could be chosen automatically: the PC must bind an existing account, or
    create one unless the source is login-only."""
    return _move(login, now, Status.NEEDS_BINDING, phone=phone, login_only=login_only)


def consume(login: QRLogin, now: float) -> QRLogin:
    """The code was exchanged for tokens; the login is done and the code is gone."""
    return _move(login, now, Status.CONSUMED, code=None)


def cancel(login: QRLogin, now: float, reason: str) -> QRLogin:
    """The browser or the person on the phone gave up."""
    return _move(login, now, Status.CANCELLED, code=None, error=reason)


def fail(login: QRLogin, now: float, reason: str) -> QRLogin:
    """The login cannot go on (no account in login-only mode, phone in use…): it ends
    cancelled with ``reason`` so the PC can say why."""
    return cancel(login, now, reason)
