"""The durable stores, one Protocol per aggregate; the SQL stores (``storage/sql/``) satisfy
them."""

from __future__ import annotations

from collections.abc import Sequence
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

    async def record_login_by_identity(
        self, pool_id: str, app_id: str, openid: str, when: datetime, profile: dict[str, str]
    ) -> User | None:
        """``record_login`` for the user this AppID's openid is linked to, unless that user is
        blocked, in one step; ``None``, and nothing written, when no user is linked or the
        linked one is blocked."""
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

    async def add_refresh_token(self, token: RefreshToken) -> RefreshToken | None:
        """The token added; ``None`` (nothing written) when its user is no longer in its pool
        or is blocked: the code exchange's check that the user may still log in."""
        ...

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

    async def put_code_images(self, images: Sequence[tuple[str, str, CodeImage, datetime]]) -> None:
        """``put_code_image`` of each (mini program, scene, image, end), in one transaction."""
        ...

    async def get_code_image(self, app_id: str, scene: str) -> CodeImage | None: ...

    async def keep_code_image(self, app_id: str, scene: str, kept_until: datetime) -> bool:
        """Move the image's end to ``kept_until``; ``False`` when there is no such image."""
        ...

    async def keep_code_images(self, kept: Sequence[tuple[str, str, datetime]]) -> None:
        """``keep_code_image`` of each (mini program, scene, end), in one transaction."""
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
