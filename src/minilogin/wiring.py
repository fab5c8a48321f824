"""The service's parts, built once per process from the settings and handed to every route:
the stores, the typed records over the ephemeral store, the WeChat client and the pools' signers.

This object is the only mutable state the application holds outside the stores themselves.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import InitVar, dataclass, field

import httpx

from minilogin.codepool import CodePool, PoolSettings
from minilogin.config import Settings
from minilogin.core.entities import IdentitySource
from minilogin.core.qrlogin import QRLogin
from minilogin.login.limits import Limits
from minilogin.login.waiting import Waiting
from minilogin.observability.events import login_event
from minilogin.oidc.authorize import REQUEST_LIFETIME
from minilogin.oidc.keys import PoolKeys
from minilogin.ports import (
    AdminStore,
    ApplicationStore,
    AuditStore,
    CodeImageStore,
    IdentitySourceStore,
    PoolStore,
    RefreshTokenStore,
    SigningKeyStore,
    UserStore,
)
from minilogin.storage.audit_log import AuditLog
from minilogin.storage.config_cache import ConfigCache
from minilogin.storage.crypto import SecretBox
from minilogin.storage.ephemeral.base import EphemeralStore
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.storage.ephemeral.pending import PendingCount
from minilogin.storage.ephemeral.records import (
    AuthorizationCodes,
    AuthorizationRequests,
    MiniProgramSessions,
    QRLogins,
    RateLimiter,
    RevokedTokens,
)
from minilogin.storage.ephemeral.redis import RedisStore
from minilogin.storage.sql import SqlStores
from minilogin.wechat.client import WeChatClient
from minilogin.wechat.token_cache import AccessTokenCache
from minilogin.wechat.transport import HttpxTransport, ReqwestTransport, WeChatHttp
from minilogin.wechat.types import MiniProgram


@dataclass
class Services:
    settings: Settings
    stores: InitVar[SqlStores]
    ephemeral: EphemeralStore
    wechat_http: WeChatHttp
    clock: Callable[[], float] = time.time
    # The durable store, one port per aggregate.
    pools: PoolStore = field(init=False)
    applications: ApplicationStore = field(init=False)
    identity_sources: IdentitySourceStore = field(init=False)
    users: UserStore = field(init=False)
    refresh_tokens: RefreshTokenStore = field(init=False)
    signing_keys: SigningKeyStore = field(init=False)
    code_images: CodeImageStore = field(init=False)
    audit_events: AuditStore = field(init=False)
    admins: AdminStore = field(init=False)
    _close_durable: Callable[[], Awaitable[None]] = field(init=False)
    qrlogins: QRLogins = field(init=False)
    codes: AuthorizationCodes = field(init=False)
    authorization_requests: AuthorizationRequests = field(init=False)
    sessions: MiniProgramSessions = field(init=False)
    revoked: RevokedTokens = field(init=False)
    limiter: RateLimiter = field(init=False)
    limits: Limits = field(init=False)
    tokens: AccessTokenCache = field(init=False)
    wechat: WeChatClient = field(init=False)
    codepool: CodePool = field(init=False)
    config: ConfigCache = field(init=False)
    audit: AuditLog = field(init=False)
    waiting: Waiting = field(init=False)
    keys: PoolKeys = field(init=False)
    pending_authorizations: PendingCount = field(init=False)

    def __post_init__(self, stores: SqlStores) -> None:
        self.pools = stores.pools
        self.applications = stores.applications
        self.identity_sources = stores.identity_sources
        self.users = stores.users
        self.refresh_tokens = stores.refresh_tokens
        self.signing_keys = stores.signing_keys
        self.code_images = stores.code_images
        self.audit_events = stores.audit_events
        self.admins = stores.admins
        self._close_durable = stores.close
        self.waiting = Waiting()
        self.config = ConfigCache(
            self.pools,
            self.applications,
            self.identity_sources,
            self.signing_keys,
            self.ephemeral,
            self.settings.config_cache_ttl,
            self.clock,
        )
        self.keys = PoolKeys(self.config, self.signing_keys, self.clock)
        self.audit = AuditLog(
            self.audit_events, self.settings.audit_flush_interval, self.settings.audit_max_pending
        )
        self.qrlogins = QRLogins(
            self.ephemeral, self.clock, ended=self._login_ended, observe=login_event
        )
        self.codes = AuthorizationCodes(self.ephemeral)
        self.authorization_requests = AuthorizationRequests(self.ephemeral, self.clock)
        self.pending_authorizations = PendingCount(
            self.ephemeral, "authorization", REQUEST_LIFETIME, self.clock
        )
        self.sessions = MiniProgramSessions(self.ephemeral)
        self.revoked = RevokedTokens(self.ephemeral)
        self.limiter = RateLimiter(self.ephemeral)
        self.limits = Limits(self.limiter, self.settings.rate_limit, self.clock)
        base = self.settings.wechat_api_url
        self.tokens = AccessTokenCache(self.ephemeral, self.wechat_http, base)
        # On the services' clock, as the code pool's own back-off from a refused page is.
        self.wechat = WeChatClient(self.wechat_http, base, self.tokens, clock=self.clock)
        self.codepool = CodePool(
            self.ephemeral,
            self.code_images,
            self.config,
            self.wechat,
            self.limiter,
            self.qrlogins,
            pool_settings(self.settings),
            self.clock,
            self.mini_program,
        )

    async def _login_ended(self, login: QRLogin) -> None:
        await self.codepool.release(login)

    def mini_program(self, source: IdentitySource, app_id: str | None = None) -> MiniProgram:
        """The mini program whose codes a source shows: its own when privately deployed.

        With ``app_id``, the one a code already on screen was made for: a source switched
        between the platform's and its own mini program keeps its earlier codes working.
        """
        own = (
            MiniProgram(source.app_id, source.app_secret)
            if source.private_deployment and source.app_id and source.app_secret
            else None
        )
        platform = MiniProgram(self.settings.wechat_app_id, self.settings.wechat_app_secret)
        if app_id == platform.app_id:
            return platform
        return own or platform

    async def start(self) -> None:
        """Start the background work: the code pool's filler, the audit writer and the
        configuration cache's listener."""
        await self.config.start()
        self.audit.start()
        self.codepool.start()

    async def close(self) -> None:
        await self.codepool.close()
        await self.config.close()
        await self.audit.close()
        await self.wechat_http.aclose()
        await self.ephemeral.close()
        await self._close_durable()


def pool_settings(settings: Settings) -> PoolSettings:
    """The code pool's share of the settings."""
    return PoolSettings(
        recycle=settings.code_pool_recycle,
        quarantine=float(settings.code_pool_quarantine),
        min_size=settings.code_pool_min_size,
        max_size=settings.code_pool_max_size,
        headroom=settings.code_pool_headroom,
        fill_rate=settings.code_pool_fill_rate,
        budget_per_minute=settings.code_pool_budget_per_minute,
    )


async def open_services(
    settings: Settings,
    wechat_transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.time,
) -> Services:
    stores = await SqlStores.open(settings.database_url, SecretBox(settings.resolved_secret_key()))
    # WeChat over the network by pyreqwest, the cheapest client measured (bench/wechat_http.py);
    # a given httpx transport (the tests' in-process sandbox) through httpx.
    http: WeChatHttp = (
        ReqwestTransport(settings.wechat_timeout)
        if wechat_transport is None
        else HttpxTransport(
            httpx.AsyncClient(
                transport=wechat_transport, timeout=httpx.Timeout(settings.wechat_timeout)
            )
        )
    )
    ephemeral: EphemeralStore = (
        RedisStore(
            settings.redis_url,
            prefix=settings.redis_prefix,
            max_connections=settings.redis_max_connections,
        )
        if settings.redis_url
        else MemoryStore()
    )
    services = Services(
        settings=settings,
        stores=stores,
        ephemeral=ephemeral,
        wechat_http=http,
        clock=clock,
    )
    await services.start()
    return services
