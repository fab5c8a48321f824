"""Making one code: a ``getwxacodeunlimit`` call within the shared per-minute budget, the
identity source's logo composed in, and WeChat's refusal of a page remembered so that codes
for it are not asked for again before its back-off has passed (``policy.refused``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from minilogin.codepool import keys, policy
from minilogin.codepool.policy import BUDGET_WINDOW, INVALID_PAGE, PAGE_ERROR_TTL, PageError
from minilogin.core.entities import CodeImage, IdentitySource
from minilogin.core.errors import RateLimited
from minilogin.images import compose_code, image_type
from minilogin.observability import metrics
from minilogin.ports import CodeBudget, PoolKeyspace
from minilogin.wechat.errors import WeChatError, from_errcode
from minilogin.wechat.types import CodeMaker, MiniProgram

log = logging.getLogger("minilogin.codepool")


class Renderer:
    """Makes the images of codes for the pool."""

    def __init__(
        self,
        store: PoolKeyspace,
        wechat: CodeMaker,
        limiter: CodeBudget,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._wechat = wechat
        self._limiter = limiter
        self._clock = clock

    async def refusal(self, source: IdentitySource, app: MiniProgram) -> PageError | None:
        """WeChat's standing refusal of the page the source's codes open now, if any."""
        raw = await self._store.get(keys.page_error(source))
        if raw is None:
            return None
        error = PageError.parse(raw)
        return error if error.names(source, app.app_id) else None

    async def render(
        self, source: IdentitySource, app: MiniProgram, scene: str, budget: int
    ) -> CodeImage:
        """One ``getwxacodeunlimit`` call, counted against the shared per-minute budget, and
        the logo composed in (off the event loop: it is pixel work). A page that WeChat
        refused is not asked for again before its back-off has passed."""
        refused = await self.refusal(source, app)
        if refused is not None and refused.holds(self._clock()):
            raise from_errcode(41030, refused.errmsg, "getwxacodeunlimit")
        key = keys.budget(app.app_id, policy.budget_window(self._clock()))
        if not await self._limiter.hit(key, budget, BUDGET_WINDOW):
            raise RateLimited("qrcode_budget_exhausted")
        page = policy.code_page(source)
        env_version = source.env_version.value
        try:
            code = await self._wechat.get_unlimited_code(
                app, scene, page=page, env_version=env_version
            )
        except WeChatError as error:
            if error.code == INVALID_PAGE:
                await self._page_refused(source, app, refused, error)
            raise
        metrics.code_made(app.app_id)
        if refused is not None:
            await self._store.delete(keys.page_error(source))
            log.info("identity source %s: WeChat accepts its page %r again", source.unique_id, page)
        if source.logo is None:
            return CodeImage(image_type(code), code)  # nothing to compose: WeChat's bytes
        composed = await asyncio.to_thread(compose_code, code, source.logo)
        return CodeImage(image_type(composed), composed)

    async def _page_refused(
        self,
        source: IdentitySource,
        app: MiniProgram,
        before: PageError | None,
        error: WeChatError,
    ) -> None:
        """Remember WeChat's refusal of the page, with a back-off that doubles with each
        refusal in a row; one log line when the page turns refused, none while it stays."""
        refused = policy.refused(source, app.app_id, error.errmsg or "", before, self._clock())
        await self._store.set(keys.page_error(source), refused.dump(), PAGE_ERROR_TTL)
        if before is None:
            log.warning(
                "identity source %s: WeChat refuses its page %r (%s %s, errcode 41030); no "
                "codes are made for it until the page is published or corrected",
                source.unique_id,
                refused.page,
                app.app_id,
                refused.env_version,
            )
