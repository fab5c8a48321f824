"""The narrow interfaces the floors below the wiring need, one per artefact.

Each Protocol is satisfied structurally: the wiring (``wiring.py``) builds the objects and hands
each function only the ports it uses. A port names what a caller needs, never how it is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from minilogin.core.entities import (
    Admin,
    ApiToken,
    Application,
    AuditEvent,
    CodeImage,
    IdentitySource,
    Pool,
    RefreshToken,
    SigningKey,
    User,
    WeChatIdentity,
)
from minilogin.core.grants import AuthorizationCode, IssuedTokens
from minilogin.core.qrlogin import MiniProgramSession, QRLogin, Scanner

# ---- durable storage, one store per aggregate ---------------------------------------------


class PoolStore(Protocol):
    """Identity pools: the tenants, each with its own issuer."""

    async def create_pool(self, pool: Pool) -> Pool: ...

    async def get_pool(self, slug: str) -> Pool | None: ...

    async def list_pools(self) -> list[Pool]: ...

    async def update_pool(self, pool: Pool) -> Pool:
        """Store the pool's name and logo URL; the slug never changes."""
        ...

    async def delete_pool(self, pool_id: str) -> None:
        """Delete the pool with everything in it (applications, sources, users)."""
        ...


class ApplicationStore(Protocol):
    """Applications: the OpenID clients of a pool."""

    async def create_application(self, application: Application) -> Application: ...

    async def get_application(self, pool_id: str, client_id: str) -> Application | None: ...

    async def list_applications(self, pool_id: str) -> list[Application]: ...

    async def update_application(self, application: Application) -> Application:
        """Store everything but the client_id, the type and the creation time."""
        ...

    async def delete_application(self, pool_id: str, client_id: str) -> None: ...


class IdentitySourceStore(Protocol):
    """Identity sources ("WeChat · PC mini program scan code") and the applications that
    use them."""

    async def create_identity_source(self, source: IdentitySource) -> IdentitySource: ...

    async def get_identity_source(self, pool_id: str, unique_id: str) -> IdentitySource | None: ...

    async def list_identity_sources(self, pool_id: str) -> list[IdentitySource]: ...

    async def enable_identity_source(
        self, pool_id: str, client_id: str, unique_id: str
    ) -> None: ...

    async def disable_identity_source(
        self, pool_id: str, client_id: str, unique_id: str
    ) -> None: ...

    async def enabled_identity_sources(
        self, pool_id: str, client_id: str
    ) -> list[IdentitySource]: ...

    async def update_identity_source(self, source: IdentitySource) -> IdentitySource:
        """Store everything but the unique ID, the logo and the creation time; the AppSecret
        is kept as it is when ``source.app_secret`` is None."""
        ...

    async def set_identity_source_logo(
        self, pool_id: str, unique_id: str, logo: bytes | None
    ) -> IdentitySource:
        """Replace (or remove) the logo and bump ``logo_version`` in one step."""
        ...

    async def delete_identity_source(self, pool_id: str, unique_id: str) -> None: ...

    async def applications_using(self, pool_id: str, unique_id: str) -> list[Application]:
        """The applications the source is enabled for."""
        ...


class UserStore(Protocol):
    """Users and the WeChat identities linked to them."""

    async def get_user(self, pool_id: str, user_id: str) -> User | None: ...

    async def find_user_by_phone(self, pool_id: str, phone: str) -> User | None: ...

    async def find_user_by_username(self, pool_id: str, username: str) -> User | None:
        """Usernames are case-insensitive."""
        ...

    async def find_identity(
        self, pool_id: str, app_id: str, openid: str
    ) -> WeChatIdentity | None: ...

    async def list_identities(self, pool_id: str, user_id: str) -> list[WeChatIdentity]: ...

    async def find_identity_by_unionid(
        self, pool_id: str, unionid: str
    ) -> WeChatIdentity | None: ...

    async def create_user(
        self,
        user: User,
        identity: WeChatIdentity | None = None,
        *,
        take_unverified_phone: bool = False,
    ) -> User:
        """Create the user and, when given, link the identity to it in the same transaction.
        With ``take_unverified_phone``, an account holding the (verified) phone number without
        having verified it loses the number to the new user, in the same transaction."""
        ...

    async def link_identity(self, identity: WeChatIdentity) -> WeChatIdentity: ...

    async def record_login(
        self, pool_id: str, user_id: str, when: datetime, profile: dict[str, str]
    ) -> User:
        """Count a login and fill the nickname/avatar the mini program sent, in one step."""
        ...

    async def search_users(
        self, pool_id: str, query: str | None, limit: int, offset: int
    ) -> tuple[list[User], int]:
        """Newest first, the page asked for and how many match in all; ``query`` matches part
        of the phone, username, nickname or email, case-insensitively."""
        ...

    async def update_user(self, user: User) -> User:
        """Store the user's fields; ``Conflict`` when the phone or username is another's."""
        ...

    async def delete_user(self, pool_id: str, user_id: str) -> None: ...

    async def unlink_identity(self, pool_id: str, user_id: str, identity_id: str) -> None: ...


class RefreshTokenStore(Protocol):
    """Refresh tokens, kept by hash, rotated within families (RFC 9700 §4.14.2)."""

    async def add_refresh_token(self, token: RefreshToken) -> RefreshToken: ...

    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None: ...

    async def rotate_refresh_token(
        self, used_id: str, replacement: RefreshToken, when: datetime
    ) -> RefreshToken | None:
        """Mark ``used_id`` used and add its successor, in one transaction; ``None`` (and
        nothing written) when it was already used or revoked: someone replays it."""
        ...

    async def revoke_refresh_family(self, family_id: str, when: datetime) -> list[RefreshToken]:
        """Revoke every token of the family; answers the family's tokens."""
        ...

    async def revoke_user_refresh_tokens(
        self, pool_id: str, user_id: str, client_id: str, when: datetime
    ) -> list[RefreshToken]:
        """Revoke every token the client holds for the user; answers them."""
        ...


class SigningKeyStore(Protocol):
    """Each pool's signing keys, private halves encrypted at rest."""

    async def add_signing_key(self, key: SigningKey) -> SigningKey:
        """``Conflict`` when the kid, or the pool's serial of the key's algorithm, is taken."""
        ...

    async def rotate_signing_key(self, key: SigningKey, retire_at: datetime) -> SigningKey:
        """Make ``key`` current; the pool's earlier keys of its algorithm verify until
        ``retire_at``. ``Conflict`` when another rotation took the serial first."""
        ...

    async def list_signing_keys(self, pool_id: str) -> list[SigningKey]: ...


class CodeImageStore(Protocol):
    """The code pool's images, by mini program and scene."""

    async def put_code_image(
        self, app_id: str, scene: str, image: CodeImage, kept_until: datetime
    ) -> None:
        """Store (or replace) the image of the code for ``scene``."""
        ...

    async def get_code_image(self, app_id: str, scene: str) -> CodeImage | None: ...

    async def keep_code_image(self, app_id: str, scene: str, kept_until: datetime) -> bool:
        """Move the image's end to ``kept_until``; ``False`` when there is no such image."""
        ...

    async def delete_code_images(self, app_id: str, scenes: Sequence[str]) -> None: ...

    async def delete_code_images_until(self, now: datetime) -> int:
        """Delete the images whose ``kept_until`` has passed; how many went."""
        ...


class AuditStore(Protocol):
    """The audit log."""

    async def add_audit_events(self, events: Sequence[AuditEvent]) -> None:
        """Write ``events`` in one transaction, in this order."""
        ...

    async def list_audit_events(self, pool_id: str, limit: int = 100) -> list[AuditEvent]: ...

    async def search_audit_events(
        self,
        pool_id: str | None,
        *,
        action_prefixes: tuple[str, ...] = (),
        subject: str | None = None,
        since: datetime | None = None,
        limit: int | None = 100,
    ) -> list[AuditEvent]:
        """Newest first; an action matches when it starts with one of ``action_prefixes``.
        ``pool_id`` None asks for the events of no pool (administrators, API tokens)."""
        ...


class AdminStore(Protocol):
    """Administrators and their API tokens."""

    async def create_admin(self, admin: Admin) -> Admin:
        """``Conflict("admin_exists")`` when the username (case-insensitive) is taken."""
        ...

    async def find_admin(self, username: str) -> Admin | None: ...

    async def get_admin(self, admin_id: str) -> Admin | None: ...

    async def set_admin_password(self, admin_id: str, password_hash: str) -> None: ...

    async def create_api_token(self, token: ApiToken) -> ApiToken: ...

    async def find_api_token(self, token_hash: str) -> ApiToken | None: ...

    async def touch_api_token(self, token_id: str, when: datetime) -> None: ...

    async def list_admins(self) -> list[Admin]: ...

    async def delete_admin(self, admin_id: str) -> None:
        """Also deletes the administrator's API tokens; ``NotFound("unknown_admin")``."""
        ...

    async def list_api_tokens(self) -> list[ApiToken]: ...

    async def get_api_token(self, token_id: str) -> ApiToken | None: ...

    async def describe_api_token(self, token_id: str, description: str | None) -> ApiToken:
        """``NotFound("unknown_api_token")`` when there is no such token."""
        ...

    async def delete_api_token(self, token_id: str) -> None:
        """``NotFound("unknown_api_token")`` when there is no such token."""
        ...


# ---- the login floor (login/, codepool/, lookups.py): what its flows are handed ------------


class PoolReader(Protocol):
    """Reading a pool by its slug: the durable store, or the configuration cache over it."""

    async def get_pool(self, slug: str) -> Pool | None: ...


class ApplicationReader(Protocol):
    """Reading an application: the durable store, or the configuration cache over it."""

    async def get_application(self, pool_id: str, client_id: str) -> Application | None: ...


class IdentitySourceReader(Protocol):
    """Reading an identity source: the durable store, or the configuration cache over it."""

    async def get_identity_source(self, pool_id: str, unique_id: str) -> IdentitySource | None: ...


class PoolKeyspace(Protocol):
    """The short-lived keys and lists the code pool shares with every instance (the ephemeral
    store: ``storage/ephemeral/base.py`` says what each operation guarantees)."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: float) -> None: ...

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Store only if ``key`` holds nothing; ``True`` when stored."""
        ...

    async def compare_and_set(self, key: str, expected: str, value: str, ttl: float) -> bool:
        """Replace the value only if it is still ``expected``; ``True`` when replaced."""
        ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl: float) -> int: ...

    async def push(self, key: str, value: str, ttl: float) -> int: ...

    async def pop(self, key: str) -> str | None:
        """The oldest value of the list, each to one caller only; ``None`` once empty."""
        ...

    async def length(self, key: str) -> int: ...


class CodeSource(Protocol):
    """The code pool as a QR login sees it (``codepool/``): a scene for each new login, and
    the image of its code."""

    @property
    def recycles(self) -> bool:
        """Whether codes return to the pool after their logins (logins then match numbers)."""
        ...

    async def lease(self, source: IdentitySource, login_id: str) -> str: ...

    async def image(self, source: IdentitySource, login: QRLogin) -> CodeImage: ...


class CodeBudget(Protocol):
    """Calls counted against a limit per window, all instances together."""

    async def hit(self, key: str, limit: int, window: float) -> bool:
        """Count one call; ``False`` once more than ``limit`` were made in the window."""
        ...


class SceneRetirement(Protocol):
    """Ending the reach of an ended login's scene: a scan of its code finds no login."""

    async def retire_scene(self, login: QRLogin, ttl: float) -> None: ...


class QRLoginStore(Protocol):
    """The QR logins in the ephemeral store, with their one compare-and-set writer
    (``storage/ephemeral/records.py``)."""

    async def create(self, login: QRLogin) -> bool:
        """Store a new login; ``False`` when its id or its scene is taken."""
        ...

    async def get(self, login_id: str) -> QRLogin | None: ...

    async def find_by_scene(self, scene: str) -> QRLogin | None: ...

    async def update(self, login_id: str, change: Callable[[QRLogin], QRLogin]) -> QRLogin: ...

    async def note_expired(self, login: QRLogin) -> None:
        """Report the login's expiry once, by whichever reader notices it first."""
        ...

    def decode(self, message: str) -> QRLogin:
        """A login as published on its status channel."""
        ...


class Counters(Protocol):
    """Counters shared by every instance (the ephemeral store)."""

    async def incr(self, key: str, ttl: float) -> int:
        """Add one and return the new count; the time to live starts at the first increment."""
        ...


class Authorizer(Protocol):
    """The last step of every successful QR login: a one-time authorization code for the
    browser, and the login moved to ``authorized`` (``login/authorization.py``)."""

    async def __call__(
        self,
        login: QRLogin,
        user: User,
        scanner: Scanner | None = None,
        *,
        ip: str | None,
        **detail: object,
    ) -> QRLogin: ...


class MiniProgramSessionStore(Protocol):
    """The mini program's sessions on scanned QR logins, kept by hash."""

    async def put(self, token: str, session: MiniProgramSession, ttl: float) -> None: ...

    async def get(self, token: str) -> MiniProgramSession | None: ...


# ---- the OpenID provider (oidc/): what its endpoints and grants are handed -----------------
# Pools and applications it reads through ``PoolReader`` and ``ApplicationReader`` above.


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

    async def update(self, login_id: str, change: Callable[[QRLogin], QRLogin]) -> QRLogin: ...


# ---- rate limits (login/limits.py) ----------------------------------------------------------


class AttemptCounter(Protocol):
    """Fixed-window counters of attempts, all instances together (``RateLimiter``)."""

    async def attempt(self, key: str, limit: int, window: float, now: float) -> float:
        """Count one attempt; the seconds until the next window when over ``limit``, else 0."""
        ...

    async def exceeded(self, key: str, limit: int, window: float, now: float) -> float:
        """Like ``attempt`` without counting."""
        ...


class FailureLimits(Protocol):
    """Back-off after failed attempts (wrong passwords), per rule of the settings."""

    async def check_failures(self, rule: str, subject: str) -> None:
        """``RateLimited`` while ``subject`` has failed too often under ``rule``."""
        ...

    async def count_failure(self, rule: str, subject: str) -> None: ...


# ---- administration (admin/): what its use cases need beside the stores --------------------


class AuditRecorder(AuditSink, Protocol):
    """The audit log as administration sees it: it adds events, and reads the log back after
    writing what this instance still queues (``storage/audit_log.py``)."""

    async def flush(self) -> None:
        """Write every event queued so far, so that a read of the log sees them."""
        ...


class ConfigInvalidation(Protocol):
    """The configuration cache of every instance (``storage/config_cache.py``)."""

    async def changed(self) -> None:
        """Pools, applications or identity sources changed: drop every cached copy."""
        ...


class KeyValues(Protocol):
    """Short-lived values under keys, shared by every instance (the ephemeral store)."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds, replacing what was there."""
        ...

    async def delete(self, key: str) -> None: ...


class PageRefusal(Protocol):
    """WeChat's refusal of the page an identity source's codes open (errcode 41030)."""

    @property
    def page(self) -> str | None: ...

    @property
    def env_version(self) -> str: ...

    @property
    def errmsg(self) -> str: ...

    @property
    def since(self) -> float: ...

    @property
    def retry_at(self) -> float: ...


class CodeStatus(Protocol):
    """Whether codes can be made for an identity source (the code pool)."""

    async def page_error(self, source: IdentitySource) -> PageRefusal | None:
        """The standing refusal of the source's page, or ``None`` while codes are made."""
        ...


class CredentialTest(Protocol):
    """Asking WeChat for an access token with a mini program's AppID and AppSecret."""

    async def __call__(self, app_id: str, app_secret: str) -> None:
        """``UpstreamError("wechat_invalid_credentials")`` when WeChat refuses the pair."""
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
