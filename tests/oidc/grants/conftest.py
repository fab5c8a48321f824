"""The grants' ports in memory: each fake keeps what the real store keeps and answers as its
port says, so the grants run without HTTP, storage or a clock of their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

import pytest

from minilogin.core.entities import (
    Application,
    ApplicationType,
    AuditEvent,
    Pool,
    RefreshToken,
    User,
)
from minilogin.core.errors import NotFound
from minilogin.core.grants import AuthorizationCode, IssuedTokens
from minilogin.core.qrlogin import QRLogin
from minilogin.core.tokens import digest, new_id
from minilogin.login.authorization import consumption
from minilogin.oidc.grants.authorization_code import AuthorizationCodeGrant
from minilogin.oidc.grants.refresh_token import RefreshTokenGrant
from minilogin.oidc.keys import RS256, Signer, generate_key

ISSUER = "https://login.example/pools/acme"
#: Made once: an RSA key takes a while, and no test changes them.
KEYS = [generate_key(), generate_key(RS256)]
T0 = 1_800_000_000.0


class FrozenClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@dataclass
class Users:
    users: dict[str, User] = field(default_factory=dict)

    async def get_user(self, pool_id: str, user_id: str) -> User | None:
        user = self.users.get(user_id)
        return user if user is not None and user.pool_id == pool_id else None


@dataclass
class RefreshTokens:
    tokens: dict[str, RefreshToken] = field(default_factory=dict)
    #: Whose tokens they are: as in the real store, none is added for a user gone or blocked.
    users: Users = field(default_factory=Users)

    async def add_refresh_token(self, token: RefreshToken) -> RefreshToken | None:
        # In one statement with the insert, as the real store does: no read of the user.
        user = self.users.users.get(token.user_id)
        if user is None or user.pool_id != token.pool_id or user.blocked:
            return None
        return self._add(token)

    def _add(self, token: RefreshToken) -> RefreshToken:
        stored = replace(token, id=new_id("rt"))
        self.tokens[stored.id] = stored
        return stored

    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None:
        return next((t for t in self.tokens.values() if t.token_hash == token_hash), None)

    async def rotate_refresh_token(
        self, used_id: str, replacement: RefreshToken, when: datetime
    ) -> RefreshToken | None:
        used = self.tokens[used_id]
        if used.used_at is not None or used.revoked_at is not None:
            return None
        self.tokens[used_id] = replace(used, used_at=when)
        return self._add(replacement)

    async def revoke_refresh_family(self, family_id: str, when: datetime) -> list[RefreshToken]:
        family = [t for t in self.tokens.values() if t.family_id == family_id]
        for token in family:
            self.tokens[token.id] = replace(token, revoked_at=token.revoked_at or when)
        return family

    async def revoke_user_refresh_tokens(
        self, pool_id: str, user_id: str, client_id: str, when: datetime
    ) -> list[RefreshToken]:
        raise AssertionError("no grant logs out")

    def family(self, family_id: str) -> list[RefreshToken]:
        return [t for t in self.tokens.values() if t.family_id == family_id]


@dataclass
class Codes:
    grants: dict[str, AuthorizationCode] = field(default_factory=dict)
    issued: dict[str, IssuedTokens] = field(default_factory=dict)

    async def put(self, code: str, grant: AuthorizationCode, ttl: float) -> None:
        self.grants[digest(code)] = grant

    async def peek(self, code: str) -> AuthorizationCode | None:
        return self.grants.get(digest(code))

    async def take(self, code: str) -> AuthorizationCode | None:
        return self.grants.pop(digest(code), None)

    async def remember_issued(self, code: str, issued: IssuedTokens, ttl: float) -> None:
        self.issued[digest(code)] = issued

    async def issued_for_used(self, code: str) -> IssuedTokens | None:
        return self.issued.get(digest(code))


@dataclass
class Revoked:
    ids: set[str] = field(default_factory=set)

    async def revoke(self, token_id: str, ttl: float) -> None:
        self.ids.add(token_id)

    async def is_revoked(self, token_id: str) -> bool:
        return token_id in self.ids


@dataclass
class QRLogins:
    logins: dict[str, QRLogin] = field(default_factory=dict)

    async def update(self, login_id: str, change: Callable[[QRLogin], QRLogin]) -> QRLogin:
        if login_id not in self.logins:
            raise NotFound("qrlogin_not_found")
        self.logins[login_id] = change(self.logins[login_id])
        return self.logins[login_id]


@dataclass
class Audit:
    events: list[AuditEvent] = field(default_factory=list)

    async def add(self, event: AuditEvent) -> None:
        self.events.append(event)

    @property
    def actions(self) -> list[str]:
        return [event.action for event in self.events]


@dataclass
class Keys:
    """Every pool signs with the same keys here; which pool asked is remembered."""

    shared: Signer
    asked: list[str] = field(default_factory=list)

    async def signer(self, pool_id: str) -> Signer:
        self.asked.append(pool_id)
        return self.shared


@dataclass
class Ports:
    """Every port of both grants, and the grants built on them."""

    clock: FrozenClock = field(default_factory=FrozenClock)
    users: Users = field(default_factory=Users)
    refresh_tokens: RefreshTokens = field(default_factory=RefreshTokens)
    codes: Codes = field(default_factory=Codes)
    revoked: Revoked = field(default_factory=Revoked)
    qrlogins: QRLogins = field(default_factory=QRLogins)
    audit: Audit = field(default_factory=Audit)
    signer: Signer = field(default_factory=lambda: Signer(KEYS))
    keys: Keys = field(init=False)

    def __post_init__(self) -> None:
        self.keys = Keys(self.signer)
        self.refresh_tokens.users = self.users

    def code_grant(self) -> AuthorizationCodeGrant:
        return AuthorizationCodeGrant(
            self.codes,
            self.users,
            consumption(self.qrlogins, self.clock),
            self.refresh_tokens,
            self.revoked,
            self.keys,
            self.audit,
            self.clock,
        )

    def refresh_grant(self) -> RefreshTokenGrant:
        return RefreshTokenGrant(
            self.users, self.refresh_tokens, self.revoked, self.keys, self.audit, self.clock
        )


POOL = Pool(slug="acme", name="Acme", id="pool_1")
SPA = Application(pool_id=POOL.id, client_id="spa", name="Shop", type=ApplicationType.SPA)
ALICE = User(pool_id=POOL.id, id="usr_alice", phone="+8613800138000", phone_verified=True)


def alices_ports() -> Ports:
    """Fresh ports, knowing one user."""
    ports = Ports()
    ports.users.users[ALICE.id] = ALICE
    return ports


@pytest.fixture
def ports() -> Ports:
    return alices_ports()
