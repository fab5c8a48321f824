"""Fixtures shared by the whole suite: settings on a temporary data folder, the app served
in-process (lifespan included) with a WeChat sandbox of its own, as ``minilogin dev`` serves
them, and the browser and phone actors bound to it.

The server reaches the sandbox through the WeChat client's HTTP transport, here in-process
(``httpx.ASGITransport``) to keep the suite fast; the tests of real processes
(``tests/test_serve.py``, ``tests/test_two_instances.py``) reach it over the network."""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from minilogin.app import create_app
from minilogin.config import SANDBOX_API_PATH, Settings
from minilogin.sandbox.app import create_sandbox_app
from minilogin.storage.sql.migrate import upgrade, upgrade_async
from minilogin.wiring import Services
from tests.support.actors import Browser, Phone

PUBLIC = "http://minilogin.test"


def sandbox_settings(public_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """A minilogin at ``public_url`` whose WeChat is the sandbox it serves beside itself, on
    the sandbox's own mini program unless ``overrides`` name one (``minilogin dev``'s)."""
    settings = Settings(public_url=public_url, data_dir=data_dir, **overrides)
    return settings.against_sandbox(settings.public_url + SANDBOX_API_PATH)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sandbox_settings(PUBLIC, tmp_path)


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


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to the latest revision once a session: a test's own SQLite
    database starts as a copy of it, the schema the migrations make for a file copy's CPU."""
    path = tmp_path_factory.mktemp("migrated") / "minilogin.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def copy_migrated(database_url: str, migrated_sqlite: Path) -> bool:
    """Make a test's new SQLite database the session's migrated copy; False, doing nothing, for
    any other database (PostgreSQL, a file already there), which the caller migrates."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or Path(url.database).exists():
        return False
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_sqlite, url.database)
    return True


@pytest.fixture
async def app(settings: Settings, clock: Clock, migrated_sqlite: Path) -> AsyncIterator[FastAPI]:
    if not copy_migrated(settings.database_url, migrated_sqlite):
        await upgrade_async(settings.database_url)
    wechat = create_sandbox_app(settings.public_url)
    application = create_app(
        settings,
        seed=True,
        sandbox=wechat,
        clock=clock,
        wechat_transport=httpx.ASGITransport(app=wechat),
    )
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
