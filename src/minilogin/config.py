"""The one settings object, read from ``MINILOGIN_*`` environment variables.

Defaults are the embedded ones: a SQLite file in the data folder, the in-process ephemeral
store and ``http://127.0.0.1:8000``; WeChat is WeChat itself unless ``MINILOGIN_WECHAT_API_URL``
names a sandbox (``minilogin dev`` runs its own).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WECHAT_API_URL = "https://api.weixin.qq.com"
#: WeChat's API hosts all end so (``api.weixin.qq.com`` and the alternates WeChat documents,
#: ``api2.``, ``sh.api.``, ``sz.api.``, ``hk.api.``); any other address is a sandbox.
WECHAT_HOST_SUFFIX = ".weixin.qq.com"
#: Where a sandbox (``minilogin sandbox``, or ``minilogin dev``'s own) answers WeChat's API and
#: serves its phone simulator, below its root.
SANDBOX_API_PATH = "/_sandbox/wechat"
SANDBOX_PHONE_PATH = "/_sandbox/phone"
SANDBOX_APP_ID = "wx0000000000sandbox"
SANDBOX_APP_SECRET = "sandbox-platform-secret"  # noqa: S105 - the sandbox's public fixture

#: Every rate limit (``web/limits.py``): rule → (attempts, window in seconds). ``.ip`` rules
#: count per client IP, ``.client`` rules per ``client_id``. ``guess.ip`` counts wrong client
#: secrets, authorization codes and QR login secrets; ``password.*`` count wrong passwords
#: (console login and ask-binding) per account and IP, and per IP over all accounts, so an
#: attacker elsewhere can never lock the owner out. ``MINILOGIN_RATE_LIMITS`` overrides the
#: attempts of some rules; ``MINILOGIN_RATE_LIMIT_SCALE`` multiplies all of them (0: off).
RATE_LIMIT_DEFAULTS: dict[str, tuple[int, float]] = {
    "qrcode.ip": (30, 60.0),
    "qrcode.client": (3000, 60.0),
    "auth.ip": (60, 60.0),
    "auth.client": (6000, 60.0),
    "token.ip": (120, 60.0),
    "token.client": (6000, 60.0),
    "scan.ip": (30, 60.0),
    "confirm.ip": (30, 60.0),
    "guess.ip": (20, 60.0),
    "password.account_ip": (10, 900.0),
    "password.ip": (30, 900.0),
}


class Settings(BaseSettings):
    """Everything that varies between a laptop and a production deployment."""

    model_config = SettingsConfigDict(env_prefix="MINILOGIN_", extra="ignore")

    public_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("data")
    database_url: str = ""
    redis_url: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    # The only address the server reaches WeChat at: WeChat's, or a sandbox's
    # ``{sandbox}/_sandbox/wechat``.
    wechat_api_url: str = WECHAT_API_URL
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
    # The code pool (codepool/): its bounds per generation, the headroom over the
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
    # Operations (README "Operate"): text or JSON log lines, and the bearer token /metrics
    # asks for (open when empty).
    log_format: Literal["text", "json"] = "text"
    metrics_token: str = ""
    # Recycling: codes return to the pool after their logins' quarantine instead of being
    # retired, and every login then asks the phone to match the two digits the PC shows.
    code_pool_recycle: bool = False

    # Rate limits and body sizes (web/limits.py); see RATE_LIMIT_DEFAULTS above.
    rate_limits: dict[str, int] = Field(default_factory=dict)
    rate_limit_scale: float = Field(default=1.0, ge=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_logo_upload_bytes: int = Field(default=2 * 1024 * 1024 + 64 * 1024, ge=1024)
    # Authorization requests (``/oidc/auth``) pending at once, all instances together: each is
    # kept up to ten minutes, so this bounds what a flood of them holds. Not scaled by
    # ``rate_limit_scale``: it bounds memory, not a rate.
    max_pending_authorizations: int = Field(default=20_000, ge=1)
    # Addresses of reverse proxies whose X-Forwarded-For is believed (uvicorn's
    # ``forwarded_allow_ips``: comma-separated IPs or networks, ``*`` for any); empty: none.
    trusted_proxies: str = ""

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        self.public_url = self.public_url.rstrip("/")
        unknown = set(self.rate_limits) - set(RATE_LIMIT_DEFAULTS)
        if unknown:
            known = sorted(RATE_LIMIT_DEFAULTS)
            raise ValueError(f"unknown rate limits {sorted(unknown)}; known: {known}")
        self.wechat_api_url = self.wechat_api_url.rstrip("/")
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'minilogin.db'}"
        return self

    def rate_limit(self, rule: str) -> tuple[int, float] | None:
        """The attempts and window of ``rule`` after overrides and scale; ``None``: no limit."""
        attempts, window = RATE_LIMIT_DEFAULTS[rule]
        scaled = self.rate_limits.get(rule, attempts) * self.rate_limit_scale
        return None if scaled <= 0 else (max(1, round(scaled)), window)

    @property
    def uses_wechat_sandbox(self) -> bool:
        """Whether WeChat is a sandbox: anything but WeChat's own hosts over HTTPS. A sandbox
        mints phone codes for any number, so its logins prove nothing about a person."""
        url = urlsplit(self.wechat_api_url)
        host = url.hostname or ""
        return not (url.scheme == "https" and host.endswith(WECHAT_HOST_SUFFIX))

    @property
    def sandbox_phone_url(self) -> str | None:
        """The sandbox's phone simulator page, beside its WeChat API; ``None`` against WeChat."""
        if not self.uses_wechat_sandbox:
            return None
        return self.wechat_api_url.removesuffix(SANDBOX_API_PATH) + SANDBOX_PHONE_PATH

    def against_sandbox(self, api_url: str) -> Settings:
        """These settings with WeChat at the sandbox ``api_url``, and the sandbox's own mini
        program as the platform's when no AppID is set (``minilogin dev``, never ``serve``)."""
        update = {"wechat_api_url": api_url.rstrip("/")}
        if not self.wechat_app_id:
            update |= {"wechat_app_id": SANDBOX_APP_ID, "wechat_app_secret": SANDBOX_APP_SECRET}
        return self.model_copy(update=update)

    def resolved_secret_key(self) -> str:
        """The key that encrypts secrets at rest: the setting, else one kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        path.write_text(key)
        path.chmod(0o600)
        return key

    def issuer(self, pool: str, *, on_pool_domain: bool = False) -> str:
        """The pool's issuer as a request knows it: ``https://{pool}.{domain}`` for a request
        that came in on the pool's own subdomain (``on_pool_domain``, which the route reads
        from the request: ``web/deps.py``), else ``{public}/pools/{pool}``."""
        if self.pool_domain and on_pool_domain:
            return f"https://{pool}.{self.pool_domain}"
        return f"{self.public_url}/pools/{pool}"
