"""Wires what operators use into the app: ``/healthz``, ``/readyz`` and ``/metrics`` (each
request's log line and 5xx count are the edge's, ``web/edge.py``)."""

from __future__ import annotations

import atexit

from fastapi import FastAPI

from minilogin.config import Settings
from minilogin.observability import metrics
from minilogin.web import health, metrics_api


def install(app: FastAPI, settings: Settings) -> None:
    health.install(app)
    app.state.metrics_token = settings.metrics_token
    app.include_router(metrics_api.router)
    if metrics.MULTIPROCESS:
        # A worker that stops leaves the live gauges (waiting browsers) to the others.
        atexit.unregister(metrics.process_exiting)
        atexit.register(metrics.process_exiting)
