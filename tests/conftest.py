"""Fixtures shared by the whole suite: settings on a temporary data folder, the app served
in-process (lifespan included), and the browser and phone actors bound to it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from minilogin.app import create_app
from minilogin.config import Settings
from minilogin.services import Services
from minilogin.storage.sql.migrate import upgrade_async
from tests.support.actors import Browser, Phone

PUBLIC = "http://minilogin.test"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(public_url=PUBLIC, data_dir=tmp_path)


class Clock:
    """Wall-clock time that a test can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[FastAPI]:
    await upgrade_async(settings.database_url)
    application = create_app(settings, seed=True, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def services(app: FastAPI) -> Services:
    svc: Services = app.state.services
    return svc


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(
        transport=transport,
        base_url=PUBLIC,
        headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/130.0"},
    ) as client:
        yield client


@pytest.fixture
def browser(http: httpx.AsyncClient) -> Browser:
    return Browser(http, f"{PUBLIC}/pools/demo")


@pytest.fixture
def phone(http: httpx.AsyncClient) -> Phone:
    return Phone(http, PUBLIC, "alice")
