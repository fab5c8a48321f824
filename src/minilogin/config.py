"""The one settings object, read from ``MINILOGIN_*`` environment variables.

Defaults are the embedded ones: a SQLite file in the data folder, the in-process ephemeral
store, the built-in WeChat sandbox and ``http://127.0.0.1:8000``.
"""

from __future__ import annotations

import secrets
from contextvars import ContextVar
from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WECHAT_API_BASE = "https://api.weixin.qq.com"
SANDBOX_APP_ID = "wx0000000000sandbox"
SANDBOX_APP_SECRET = "sandbox-platform-secret"  # noqa: S105 - the sandbox's public fixture


#: The pool whose own subdomain (``MINILOGIN_POOL_DOMAIN``) the request being served came in
#: on; set for the request by ``web/pool_domain.py``. A context variable, so that concurrent
#: requests each see their own.
pool_host: ContextVar[str | None] = ContextVar("minilogin_pool_host", default=None)


class WeChatMode(StrEnum):
    SANDBOX = "sandbox"
    LIVE = "live"


class Settings(BaseSettings):
    """Everything that varies between a laptop and a production deployment."""

    model_config = SettingsConfigDict(env_prefix="MINILOGIN_", extra="ignore")

    public_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("data")
    database_url: str = ""
    redis_url: str = ""
    wechat_mode: WeChatMode | None = None
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_api_base: str = ""
    secret_key: str = ""
    admin_token: str = ""
    pool_domain: str = ""
    qr_expires_in: int = Field(default=120, ge=30, le=600)
    wechat_timeout: float = Field(default=5.0, gt=0)
    # How long an instance keeps the pools, applications and identity sources it read
    # (storage/config_cache.py); the admin API's changes reach every instance at once.
    config_cache_ttl: float = Field(default=5.0, ge=0)
    # Audit events are written in batches after answering (storage/audit_log.py): how long a batch
    # gathers, and how many events may wait before a request waits for them to be written.
    audit_flush_interval: float = Field(default=0.05, gt=0)
    audit_max_pending: int = Field(default=10_000, ge=1)
    # Redis (``redis_url``): the namespace of every key and channel, so deployments can share
    # a server, and the most connections one process opens for commands.
    redis_prefix: str = "minilogin:"
    redis_max_connections: int = Field(default=64, ge=1, le=10_000)
    # The code pool (flows/codepool.py): its bounds per generation, the headroom over the
    # recent load, the quarantine of a scene after its login ends (seconds), the
    # getwxacodeunlimit calls per minute and AppID all instances together may make (WeChat
    # allows 5000), and the most codes a second the background filler makes for one
    # generation (its pace below the minimum size; above it, the load sets a slower one).
    code_pool_min_size: int = Field(default=2, ge=0)
    code_pool_max_size: int = Field(default=5000, ge=1)
    code_pool_headroom: float = Field(default=1.5, ge=1.0)
    code_pool_quarantine: int = Field(default=600, ge=1)
    code_pool_budget_per_minute: int = Field(default=4000, ge=1, le=5000)
    code_pool_fill_rate: float = Field(default=20.0, gt=0)
    # Recycling: codes return to the pool after their logins' quarantine instead of being
    # retired, and every login then asks the phone to match the two digits the PC shows.
    code_pool_recycle: bool = False

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        self.public_url = self.public_url.rstrip("/")
        if self.wechat_mode is None:
            self.wechat_mode = WeChatMode.LIVE if self.wechat_app_id else WeChatMode.SANDBOX
        if self.wechat_mode is WeChatMode.SANDBOX:
            self.wechat_app_id = self.wechat_app_id or SANDBOX_APP_ID
            self.wechat_app_secret = self.wechat_app_secret or SANDBOX_APP_SECRET
        if not self.wechat_api_base:
            self.wechat_api_base = (
                f"{self.public_url}/_sandbox/wechat"
                if self.wechat_mode is WeChatMode.SANDBOX
                else WECHAT_API_BASE
            )
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'minilogin.db'}"
        return self

    @property
    def sandbox(self) -> bool:
        return self.wechat_mode is WeChatMode.SANDBOX

    def resolved_secret_key(self) -> str:
        """The key that encrypts secrets at rest: the setting, else one kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        path.write_text(key)
        path.chmod(0o600)
        return key

    def issuer(self, pool: str) -> str:
        """The pool's issuer as the current request knows it: ``https://{pool}.{domain}`` for
        a request that came in on the pool's subdomain, else ``{public}/pools/{pool}``."""
        if self.pool_domain and pool_host.get() == pool:
            return f"https://{pool}.{self.pool_domain}"
        return f"{self.public_url}/pools/{pool}"
