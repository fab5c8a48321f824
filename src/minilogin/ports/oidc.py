"""What the OpenID provider (``oidc/``) is handed: its endpoints and grants, each pool's
signing keys and the cap on pending authorization requests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from minilogin.core.entities import AuditEvent, IdentitySource, User
from minilogin.core.grants import AuthorizationCode, IssuedTokens
from minilogin.core.qrlogin import QRLogin

# Pools and applications it reads through ``ports.login``'s ``PoolReader`` and
# ``ApplicationReader``.


class Clock(Protocol):
    """Seconds since the epoch: ``time.time``, or a test's."""

    def __call__(self) -> float: ...


class AuditSink(Protocol):
    """Where the provider's security-relevant events go (the audit log's writer queues them);
    the protocol emits them and never reads them back."""

    async def add(self, event: AuditEvent) -> None: ...


class CallbackLookup(Protocol):
    """The identity sources an authorization request may send its response to (their
    Callback URL) when it names no ``redirect_uri``."""

    async def get_identity_source(self, pool_id: str, unique_id: str) -> IdentitySource | None: ...

    async def enabled_identity_sources(
        self, pool_id: str, client_id: str
    ) -> list[IdentitySource]: ...


class UserLookup(Protocol):
    async def get_user(self, pool_id: str, user_id: str) -> User | None: ...


class AuthorizationCodeStore(Protocol):
    """One-time authorization codes, kept by hash (``storage/ephemeral/records.py``)."""

    async def put(self, code: str, grant: AuthorizationCode, ttl: float) -> None: ...

    async def peek(self, code: str) -> AuthorizationCode | None:
        """The grant, left in place."""
        ...

    async def take(self, code: str) -> AuthorizationCode | None:
        """The grant, once: a second call for the same code answers ``None``."""
        ...

    async def remember_issued(self, code: str, issued: IssuedTokens, ttl: float) -> None: ...

    async def issued_for_used(self, code: str) -> IssuedTokens | None: ...


class RevokedTokenStore(Protocol):
    """Access-token ids revoked before their expiry, kept until the token would expire."""

    async def revoke(self, token_id: str, ttl: float) -> None: ...

    async def is_revoked(self, token_id: str) -> bool: ...


class TokenSigner(Protocol):
    """Signs the provider's JWTs and verifies the ones it signed (``oidc/keys.py``)."""

    def sign(self, claims: Mapping[str, object], typ: str = ..., alg: str = ...) -> str: ...

    def verify(self, token: str) -> dict[str, object]:
        """The claims of a token this provider signed; ``Unauthorized`` for anything else."""
        ...


class AuthorizationRequestStore(Protocol):
    """Pending authorization requests, kept as the provider serialised them, and the one each
    bound QR login answers (``storage/ephemeral/records.py``)."""

    async def keep(self, request_id: str, request: str, ttl: float) -> None: ...

    async def find(self, request_id: str) -> str | None: ...

    async def bind(self, login: QRLogin, request: str) -> None:
        """Tie ``request`` to the login for as long as the login is kept."""
        ...

    async def bound(self, login_id: str) -> str | None: ...


class CodeRedemption(Protocol):
    """What the product does once one of its codes is redeemed: the QR login the code ended
    with is consumed (``login/authorization.py``). The protocol only tells it."""

    async def __call__(self, grant: AuthorizationCode) -> None: ...


class QRLoginUpdates(Protocol):
    """The QR logins' one compare-and-set writer: an exchanged code ends its login."""

    async def update(
        self,
        login_id: str,
        change: Callable[[QRLogin], QRLogin],
        seen: QRLogin | None = None,
    ) -> QRLogin:
        """``seen``: the login as the caller just read it, which spares a read while it is
        still the stored one."""
        ...


# ---- the cap on pending authorization requests (oidc/authorize.py, issue #13) ---------------


class PendingCounter(Protocol):
    """How many of something are pending, all instances together
    (``storage/ephemeral/pending.py``)."""

    @property
    def retry_after(self) -> int:
        """Seconds after which a refused caller may find room."""
        ...

    async def reserve(self, cap: int) -> int | None:
        """Count one more unless ``cap`` are pending: what ``end`` takes, or ``None``."""
        ...

    async def end(self, bucket: int) -> None: ...


class EndingAuthorizationRequests(AuthorizationRequestStore, Protocol):
    """Pending authorization requests, and their end: of two callers ending one request, only
    one gets it back."""

    async def take(self, request_id: str) -> str | None: ...


# ---- each pool's signing keys (oidc/keys.py, issue #13) -------------------------------------


class PoolSigners(Protocol):
    """Each pool's signer (``oidc/keys.py``): it signs with the pool's current keys and
    verifies only the pool's own, so that a token of one pool never verifies at another."""

    async def signer(self, pool_id: str) -> TokenSigner: ...
