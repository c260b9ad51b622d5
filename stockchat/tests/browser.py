"""The pieces every web UI browser test uses: a daphne serving the app, pages that fail the test
on any script error, CSP violation or dialog, and screenshots under ``test-artifacts/``."""

from __future__ import annotations

import contextlib

from conftest import session_cookie_for
from testsupport.browser import prepare
from testsupport.processes import ROOT, AppProcess, app_environment, daphne_command
from testsupport.servers import free_port

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct-horse-9"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
XSS = '<script>alert("boom")</script><img src=x onerror="alert(1)">'
ONLINE = "html[data-socket=online]"
OFFLINE = "#connection-status[data-status=offline]"


class Site:
    """One daphne serving the app, restartable on the same port."""

    def __init__(self, feed: str = "off") -> None:
        # DEBUG on, as `make run` serves it: WhiteNoise then serves static files from the source tree.
        self.env = app_environment(
            DJANGO_DEBUG="true",
            STOCKCHAT_MARKET_FEED=feed,
            STOCKCHAT_MARKET_FEED_INTERVAL="0.2",
            # Accelerated (docs/configuration.md): at real time a tick moves a $100 stock by a fraction
            # of a cent, and the tests wait for prices that visibly move.
            STOCKCHAT_MARKET_TIME_SCALE="600",
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: AppProcess | None = None

    def start(self) -> None:
        self.process = AppProcess(daphne_command(self.port), self.env, name=f"daphne-{self.port}")
        self.process.wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    @contextlib.contextmanager
    def running(self):
        self.start()
        try:
            yield self
        finally:
            self.stop()


class Watched:
    """A page that records dialogs, CSP violations and script errors, which every test asserts are none."""

    def __init__(self, page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.problems: list[str] = []
        self._server_down = False
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._console)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, url: str) -> None:
        """Go to ``url`` and wait until the page's socket is up, so live updates reach it."""
        self.page.goto(url)
        self.page.wait_for_selector(ONLINE)

    @contextlib.contextmanager
    def server_down(self):
        """While the test has stopped the server: any load the page starts then (a lazy favicon,
        a fetch) is refused, which is expected; such refusals are not counted as problems."""
        self._server_down = True
        try:
            yield
        finally:
            self._server_down = False

    def _console(self, message) -> None:
        text = message.text
        if self._server_down and text.startswith("Failed to load resource: net::ERR_CONNECTION_"):
            return
        if text.endswith("status of 400 (Bad Request)"):
            return  # a form sent back with its errors: by design
        if "Content Security Policy" in text or (message.type == "error" and "WebSocket" not in text):
            url = (message.location or {}).get("url")
            self.problems.append(f"{text} ({url})" if url else text)


@contextlib.contextmanager
def open_page(browser, site: Site, user=None, viewport=DESKTOP, **context_options):
    """A watched page in a fresh context, signed in as ``user``; ``context_options`` go to
    Playwright's ``new_context`` (``timezone_id="America/New_York"``, ...)."""
    context = browser.new_context(viewport=viewport, **context_options)
    try:
        if user is not None:
            name, value = session_cookie_for(user).split("=", 1)
            context.add_cookies([{"name": name, "value": value, "url": site.url}])
        page = context.new_page()
        prepare(page)
        watched = Watched(page)
        yield watched
        assert watched.problems == [], watched.problems
        assert watched.dialogs == [], watched.dialogs
    finally:
        context.close()


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{'phone' if width < 600 else 'desktop'}.png"), full_page=True)
