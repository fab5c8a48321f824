"""The log configuration ``minilogin dev`` and ``serve`` hand to uvicorn (every worker applies
it): plain text by default, one JSON object a line with ``MINILOGIN_LOG_FORMAT=json``
(python-json-logger).

uvicorn's own access log is replaced by ``minilogin.request`` (``observability/http.py``),
which never writes a query string: the event stream's ``secret``, and the codes and tokens
of OAuth redirects, travel there. httpx logs each WeChat URL at INFO, ``js_code`` included,
so it is kept to warnings.
"""

from __future__ import annotations

from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS

LogFormat = Literal["text", "json"]


def log_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn's ``log_config``."""
    formatter: dict[str, Any]
    if log_format == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
            # uvicorn repeats its message with terminal colours for its own formatter.
            "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
        }
    else:
        formatter = {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"}
    upper = level.upper()
    stderr = {"handlers": ["stderr"], "level": upper, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        # Belt and braces: main's redacting filter (minilogin/logs.py) on the one handler.
        "filters": {"redact": {"()": "minilogin.logs.RedactSecrets"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
                "filters": ["redact"],
            }
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            "uvicorn": stderr,
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {**stderr, "level": "WARNING"},
            "minilogin": stderr,
            "httpx": {**stderr, "level": "WARNING"},
        },
    }
