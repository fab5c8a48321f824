"""``GET /metrics``: the Prometheus metrics of every worker (``observability/metrics.py``).

Open by default, as exporters usually are: keep it off the public network. With
``MINILOGIN_METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer <token>``
(Prometheus's ``authorization`` scrape setting), else it answers 401. Never rate-limited.
"""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Header, Request, Response

from minilogin.core.errors import Unauthorized
from minilogin.observability import metrics
from minilogin.web.deps import bearer_token

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
async def scrape(request: Request, authorization: str | None = Header(default=None)) -> Response:
    expected: str = request.app.state.metrics_token
    if expected:
        given = bearer_token(authorization) or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized("unauthorized")
    # Reading every worker's files is disk work: off the event loop.
    body = await asyncio.to_thread(metrics.render)
    return Response(body, media_type=metrics.CONTENT_TYPE)
