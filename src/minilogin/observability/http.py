"""What is seen of every HTTP request, at the edge (``web/edge.py``): one ``minilogin.request``
log line each (method, path without its query, status, duration) and the count of 5xx answers.

The query is left out on purpose: it carries the event stream's ``secret`` and the codes and
tokens of OAuth redirects. An exception that escapes the app counts as the 500 that
Starlette's outermost error middleware will answer; a request whose client left before any
answer began is logged with nginx's 499 (client closed request).
"""

from __future__ import annotations

import logging
import time

from starlette.types import Scope

from minilogin.observability import metrics

log = logging.getLogger("minilogin.request")
CLIENT_CLOSED = 499


def observed(scope: Scope, status: int, started: float) -> None:
    """The request's log line, and its count if it failed, once its answer is over (or it
    failed with ``status`` 500, or its client left with 499) (``web/edge.py`` calls it)."""
    if status >= 500:
        metrics.server_error(status)
    duration = round((time.perf_counter() - started) * 1000, 1)
    method, path = scope["method"], scope["path"]
    log.info(
        "%s %s %d %.1fms",
        method,
        path,
        status,
        duration,
        extra={
            "event": "request",
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration,
        },
    )
