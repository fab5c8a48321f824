"""Headless Chromium for the browser tests: one browser for the whole session (Debian's
Chromium; no browser is ever downloaded), a way to read the QR code a page shows as a phone's
camera would, and screenshots for the docs on request.

The browser process is session-scoped; Playwright connects to it per test module. A started
sync Playwright marks its event loop as running in the test thread between its calls, so
while it is started pytest-asyncio cannot run an ``async def`` test; connecting per module
keeps the async tests of every other module working, and the slow part, starting Chromium,
still happens once. In a module that has both, the async tests must come before the browser
tests.

Test modules use the fixture with ``pytest_plugins = ["tests.support.chromium"]``; they import
its helpers before pytest loads it as a plugin, so it opts out of assertion rewriting (it has
no assert to rewrite): PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from tests.support.actors import decode_qr

CHROMIUM = "/usr/bin/chromium"
# Headless, with nothing running in the background, and with tabs that are not in front
# painting and running timers as the one in front does (Playwright's own launch does the same).
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--hide-scrollbars",
    "--mute-audio",
    "--force-color-profile=srgb",
    "--password-store=basic",
    "--use-mock-keychain",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _devtools_url(process: subprocess.Popen[bytes], profile: Path, log: Path) -> str:
    """Where the browser's DevTools protocol listens, once Chromium says so: with
    ``--remote-debugging-port=0`` it writes the port it chose to ``DevToolsActivePort``."""
    active_port = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while True:
        lines = active_port.read_text().splitlines() if active_port.exists() else []
        if len(lines) >= 2:
            return f"http://127.0.0.1:{lines[0]}"
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}: {log.read_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"chromium did not start: {log.read_text()}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def chromium_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's one Chromium process, as the URL Playwright connects to."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    log = profile.parent / "chromium.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [CHROMIUM, *ARGS, "--remote-debugging-port=0", f"--user-data-dir={profile}"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield _devtools_url(process, profile, log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def chromium(chromium_endpoint: str) -> Iterator[Browser]:
    """The session's Chromium, driven by Playwright for one test module. Each test opens its
    own context (``new_context`` or ``new_page``) and closes it."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(chromium_endpoint)
        yield browser
        # Disconnects and drops the contexts this module opened; the browser goes on.
        browser.close()


def read_qr(element: Locator) -> str:
    """The text of the QR code ``element`` shows on screen, decoded from its screenshot."""
    # Only the tab in front paints; a screenshot of another would wait for a frame.
    element.page.bring_to_front()
    return decode_qr(element.screenshot(animations="disabled"))


def screenshot_for_docs(target: Page | Locator, name: str) -> None:
    """Save ``docs/screenshots/{name}.png`` when ``MINILOGIN_SCREENSHOTS=1``; normal runs leave
    the committed pictures alone."""
    if os.environ.get("MINILOGIN_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page = target if isinstance(target, Page) else target.page
    page.bring_to_front()
    if isinstance(target, Page):
        target.screenshot(path=path, full_page=True, animations="disabled")
    else:
        target.screenshot(path=path, animations="disabled")
