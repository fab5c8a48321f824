"""What the service writes to its logs never holds a credential.

URLs carry codes and secrets by design (``/demo/callback?code=…``, ``…/events?secret=…``,
``/oidc/session/end?id_token_hint=…``, WeChat's ``jscode2session?secret=…&js_code=…``), and
uvicorn's access log writes every request's URL. ``RedactSecrets`` is a logging filter that
replaces the values of such parameters, and of ``Bearer``/``Basic`` credentials, with
``***`` in every record of a handler it sits on; ``log_config`` is uvicorn's own logging
configuration with the filter on each of its handlers, which ``minilogin dev`` and
``minilogin serve`` use.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

#: Parameters (query, form, JSON-ish ``name=value`` text) whose values are credentials.
SECRET_NAMES = (
    "access_token",
    "client_secret",
    "code",
    "code_verifier",
    "id_token",
    "id_token_hint",
    "js_code",
    "password",
    "phone_code",
    "refresh_token",
    "secret",
    "session",
    "token",
)
_PARAMETER = re.compile(r"(?i)(?<![\w-])(" + "|".join(SECRET_NAMES) + r")(=|%3D)[^&\s\"',;]+")
_AUTHORIZATION = re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+")
MASK = "***"


def redact(text: str) -> str:
    text = _PARAMETER.sub(lambda match: f"{match[1]}{match[2]}{MASK}", text)
    return _AUTHORIZATION.sub(lambda match: f"{match[1]} {MASK}", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record in place; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.name == "uvicorn.access":
            # uvicorn's access formatter reads its five arguments by position.
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        else:
            record.msg = redact(record.getMessage())
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, every handler redacting; the root logger (httpx,
    SQLAlchemy, minilogin's own) writes through the same redacting handler."""
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": f"{__name__}.RedactSecrets"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config
