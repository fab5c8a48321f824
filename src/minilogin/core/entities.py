"""The durable records the service keeps, as plain dataclasses shared by the core, the stores
and the routes. Storage maps them to tables; nothing here knows how."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ApplicationType(StrEnum):
    SPA = "spa"  # public client: PKCE, no secret
    WEB = "web"  # confidential client: PKCE and a client secret


class LoginMode(StrEnum):
    LOGIN_AND_REGISTER = "login_and_register"
    LOGIN_ONLY = "login_only"


class Association(StrEnum):
    OFF = "off"
    FIELD_MATCH = "field_match"
    ASK_BINDING = "ask_binding"


class EnvVersion(StrEnum):
    RELEASE = "release"
    TRIAL = "trial"
    DEVELOP = "develop"


@dataclass(slots=True)
class Pool:
    slug: str
    name: str
    id: str = ""
    logo_url: str | None = None
    created_at: datetime | None = None


@dataclass(slots=True)
class Application:
    pool_id: str
    client_id: str
    name: str
    type: ApplicationType = ApplicationType.SPA
    redirect_uris: list[str] = field(default_factory=list)
    web_origins: list[str] = field(default_factory=list)
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    client_secret_hash: str | None = None
    id_token_lifetime: int = 3600
    access_token_lifetime: int = 3600
    refresh_token_lifetime: int = 30 * 24 * 3600
    # OpenID Connect Dynamic Client Registration 1.0 §2: RS256 unless the client says otherwise.
    id_token_signed_response_alg: str = "RS256"  # noqa: S105 - an algorithm, not a secret
    created_at: datetime | None = None
    #: OAuth 2.1 §4.1.1: every client sends a PKCE challenge; only a confidential legacy
    #: relying party that cannot may be let off, explicitly.
    pkce_required: bool = True
    #: A resource server may introspect tokens issued to other clients of its pool.
    resource_server: bool = False

    @property
    def is_public(self) -> bool:
        return self.type is ApplicationType.SPA


@dataclass(slots=True)
class IdentitySource:
    """A "WeChat · PC mini program scan code" identity source (a connection)."""

    pool_id: str
    unique_id: str
    display_name: str
    id: str = ""
    callback_url: str | None = None
    private_deployment: bool = False
    app_id: str | None = None
    app_secret: str | None = None  # plaintext in memory only; the store encrypts it at rest
    login_mode: LoginMode = LoginMode.LOGIN_AND_REGISTER
    association: Association = Association.FIELD_MATCH
    page: str = "pages/login/login"
    env_version: EnvVersion = EnvVersion.RELEASE
    qr_expires_in: int = 120
    logo: bytes | None = None
    logo_version: int = 0
    created_at: datetime | None = None

    @property
    def app_secret_set(self) -> bool:
        return self.app_secret is not None


@dataclass(slots=True)
class User:
    pool_id: str
    id: str = ""
    phone: str | None = None
    phone_verified: bool = False
    username: str | None = None
    email: str | None = None
    password_hash: str | None = None
    nickname: str | None = None
    avatar_url: str | None = None
    blocked: bool = False
    login_count: int = 0
    last_login_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(slots=True)
class WeChatIdentity:
    """A WeChat account as one mini program (AppID) sees it, linked to a user of one pool."""

    pool_id: str
    user_id: str
    app_id: str
    openid: str
    unionid: str | None = None
    id: str = ""
    created_at: datetime | None = None


@dataclass(slots=True)
class SigningKey:
    """One key of one pool. The pool's current key of an algorithm is its highest ``serial``;
    a key rotated out verifies, and stays in the JWKS, until ``retire_at``."""

    kid: str
    algorithm: str
    private_jwk: str  # JSON; plaintext in memory only, the store encrypts it at rest
    public_jwk: str  # JSON
    active: bool = True
    created_at: datetime | None = None
    pool_id: str = ""
    serial: int = 1
    retire_at: datetime | None = None


@dataclass(slots=True)
class AuditEvent:
    pool_id: str | None
    action: str
    actor: str | None = None
    subject: str | None = None
    detail: dict[str, object] = field(default_factory=dict)
    ip: str | None = None
    id: str = ""
    created_at: datetime | None = None


@dataclass(slots=True)
class Admin:
    """A console administrator; the password is kept only as an Argon2id hash."""

    username: str
    password_hash: str
    id: str = ""
    created_at: datetime | None = None


@dataclass(slots=True)
class ApiToken:
    """An admin API token, kept only as a SHA-256 hash. ``admin_id`` is None for tokens made
    for automation rather than for one administrator."""

    token_hash: str
    admin_id: str | None = None
    description: str | None = None
    id: str = ""
    created_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(slots=True)
class RefreshToken:
    """A refresh token as the store keeps it: its hash only, never the token itself.

    Each rotation marks the token ``used`` and adds its successor to the same ``family_id``;
    the ``access_token_id`` issued alongside is revoked when its family is."""

    pool_id: str
    client_id: str
    user_id: str
    family_id: str
    token_hash: str
    scope: str
    auth_time: int
    expires_at: datetime
    amr: list[str] = field(default_factory=list)
    access_token_id: str | None = None
    access_expires_at: datetime | None = None
    id: str = ""
    created_at: datetime | None = None
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CodeImage:
    """A code pool image as served: its bytes and their ``image/png`` or ``image/jpeg``."""

    content_type: str
    data: bytes = field(repr=False)
