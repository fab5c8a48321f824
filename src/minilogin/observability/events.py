"""One report per step of a QR login: a log line on ``minilogin.login`` and the metrics.

The line names the login, its pool, client and identity source, never its secret, scene,
code or anything the phone sent. ``expired`` is reported once, by whoever first notices it
(``storage/ephemeral/records.py``): expiry is lazy, nothing happens at the deadline itself.
"""

from __future__ import annotations

import logging

from minilogin.core.qrlogin import QRLogin
from minilogin.observability import metrics

log = logging.getLogger("minilogin.login")


def login_event(login: QRLogin, event: str) -> None:
    metrics.login_event(login, event)
    log.info(
        "login %s %s (pool %s, client %s, source %s)",
        login.id,
        event,
        login.pool,
        login.client_id,
        login.connection,
        extra={
            "event": f"login.{event}",
            "login_id": login.id,
            "pool": login.pool,
            "client_id": login.client_id,
            "source": login.connection,
        },
    )
