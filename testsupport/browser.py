"""Debian's Chromium driven by Playwright, for the browser tests.

``chromium()`` launches one headless browser (or skips/fails through ``require_service`` when
Playwright or Chromium is missing); ``stay_on_loopback`` is a route handler that lets a page
reach the servers the test started and nothing on the internet.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from testsupport.plugin import require_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
LOOPBACK = {"127.0.0.1", "localhost"}


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A launched Playwright ``Browser``; the caller's thread runs Playwright's event loop."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_service("playwright is not installed (pip install -r requirements-dev.txt)")
    executable = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if not executable:
        require_service("Chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def stay_on_loopback(route) -> None:
    if urlsplit(route.request.url).hostname in LOOPBACK:
        route.continue_()
    else:
        route.abort()


def prepare(page) -> None:
    """The settings every test page gets: a bounded wait and no way off loopback."""
    page.set_default_timeout(TIMEOUT_MS)
    page.route("**/*", stay_on_loopback)
