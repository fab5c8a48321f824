"""The service's Prometheus metrics (``GET /metrics``), through ``prometheus-client``.

The rest of the code reports what happens by calling the small functions here; none of it
touches a metric object directly, so the names and labels are kept in this one place.

``minilogin serve --workers N`` runs N processes: ``serve`` then points
``PROMETHEUS_MULTIPROC_DIR`` at an empty folder before the workers start, every worker writes
its values there, and whichever worker answers ``/metrics`` reads all of them
(prometheus-client's multiprocess mode, https://prometheus.github.io/client_python/multiprocess/).
The mode is fixed when this module is imported, as prometheus-client fixes it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from minilogin.core.qrlogin import QRLogin, Status

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Whether this process shares its values with sibling workers through files.
MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))
CONTENT_TYPE = CONTENT_TYPE_LATEST

LOGINS = Counter(
    "minilogin_logins",
    "QR logins that ended, by outcome (succeeded: its code was exchanged; cancelled; expired) "
    "and identity source",
    ["outcome", "pool", "source"],
)
LOGIN_EVENTS = Counter(
    "minilogin_login_events",
    "Steps of QR logins (created, scanned, needs_binding, authorized, consumed, cancelled, "
    "expired), by identity source",
    ["event", "pool", "source"],
)
PUSH_LATENCY = Histogram(
    "minilogin_push_latency_seconds",
    "From the phone's confirmation to the waiting browser receiving the new status",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
WAITING_BROWSERS = Gauge(
    "minilogin_waiting_browsers",
    "Browsers waiting for their QR login's status (event streams and long polls open now)",
    multiprocess_mode="livesum",
)
CODE_POOL_SIZE = Gauge(
    "minilogin_code_pool_size",
    "Mini program codes in the pool (lent or free) of an identity source's current generation",
    ["app_id", "pool_id", "source"],
    multiprocess_mode="mostrecent",
)
CODES_MADE = Counter(
    "minilogin_codes_made",
    "Mini program codes made through getwxacodeunlimit, by AppID",
    ["app_id"],
)
WECHAT_CALLS = Counter(
    "minilogin_wechat_calls",
    "Calls to the WeChat server API, by endpoint",
    ["endpoint"],
)
WECHAT_ERRORS = Counter(
    "minilogin_wechat_errors",
    "Failed calls to the WeChat server API, by endpoint and errcode (or timeout, unreachable, "
    "bad_response)",
    ["endpoint", "errcode"],
)
TOKEN_REFRESHES = Counter(
    "minilogin_wechat_token_refreshes",
    "Access tokens fetched from WeChat (stable_token), by AppID and whether forced",
    ["app_id", "forced"],
)
RATE_LIMITED = Counter(
    "minilogin_rate_limited",
    "Requests refused with 429, by reason",
    ["reason"],
)
SERVER_ERRORS = Counter(
    "minilogin_http_server_errors",
    "Responses with a 5xx status, by status",
    ["status"],
)

_OUTCOMES = {
    Status.CONSUMED: "succeeded",
    Status.CANCELLED: "cancelled",
    Status.EXPIRED: "expired",
}


def login_event(login: QRLogin, event: str) -> None:
    """A QR login took a step; at a terminal one, it also counts as ended."""
    LOGIN_EVENTS.labels(event, login.pool, login.connection).inc()
    outcome = _OUTCOMES.get(login.status)
    if outcome is not None:
        LOGINS.labels(outcome, login.pool, login.connection).inc()


def pushed(login: QRLogin, now: float) -> None:
    """A waiting browser received ``login``'s new status; for a confirmation, how long after."""
    if login.status in (Status.AUTHORIZED, Status.NEEDS_BINDING):
        PUSH_LATENCY.observe(max(0.0, now - login.updated_at))


@contextmanager
def waiting_browser() -> Iterator[None]:
    WAITING_BROWSERS.inc()
    try:
        yield
    finally:
        WAITING_BROWSERS.dec()


def code_pool_size(app_id: str, pool_id: str, source: str, size: int) -> None:
    CODE_POOL_SIZE.labels(app_id, pool_id, source).set(size)


def code_made(app_id: str) -> None:
    CODES_MADE.labels(app_id).inc()


def wechat_call(endpoint: str) -> None:
    WECHAT_CALLS.labels(endpoint).inc()


def wechat_error(endpoint: str, errcode: int | str) -> None:
    WECHAT_ERRORS.labels(endpoint, str(errcode)).inc()


def token_refresh(app_id: str, *, forced: bool) -> None:
    TOKEN_REFRESHES.labels(app_id, "true" if forced else "false").inc()


def rate_limited(reason: str) -> None:
    """Count a request refused with 429; whatever refuses one calls this once."""
    RATE_LIMITED.labels(reason).inc()


def server_error(status: int) -> None:
    SERVER_ERRORS.labels(str(status)).inc()


def render() -> bytes:
    """Every metric in the text exposition format, of all workers in multiprocess mode."""
    if not MULTIPROCESS:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def prepare_multiprocess(default: Path) -> None:
    """Make ``PROMETHEUS_MULTIPROC_DIR`` (``default`` when it is not set) the empty place
    where the workers about to start share their values (values left by an earlier run would
    be added to this one's)."""
    folder = Path(os.environ.get(MULTIPROC_ENV) or default)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(folder)


def process_exiting() -> None:
    """This worker stops: its share of the live gauges stops counting."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
