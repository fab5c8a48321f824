"""What the administration's use cases (``admin/``) need beside the stores."""

from __future__ import annotations

from typing import Protocol

from minilogin.core.entities import IdentitySource
from minilogin.ports.oidc import AuditSink


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
