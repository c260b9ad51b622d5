"""Sign-in and sign-out in a real Chromium: through the OIDC provider, and with a local account."""

from __future__ import annotations

import contextlib
import json

import pytest
from django.urls import reverse

from testsupport.browser import chromium, prepare

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@contextlib.contextmanager
def chromium_page():
    with chromium() as browser:
        page = browser.new_context().new_page()
        # The provider's pages link a stylesheet on the internet; nothing here may leave loopback.
        prepare(page)
        yield page


@pytest.fixture
def browser_env(monkeypatch):
    # sync_playwright runs an event loop in this thread; the test's own ORM calls are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def me(page, base: str) -> dict:
    page.goto(f"{base}/api/v1/me/")
    return json.loads(page.inner_text("body"))


def test_sign_in_and_out_through_the_provider(browser_env, oidc_settings, oidc_provider, unique_sub, live_server):
    oidc_provider.set_user(
        unique_sub, email="grace@example.com", **{"cognito:username": "grace", "cognito:groups": ["premium", "staff"]}
    )
    base = live_server.url
    with chromium_page() as page:
        page.goto(f"{base}/accounts/tokens/")
        page.wait_for_url(f"{oidc_provider.url}/oauth2/authorize?**", wait_until="domcontentloaded")
        page.fill("input[name=sub]", unique_sub)
        page.click("button:has-text('Authorize')")
        page.wait_for_url(f"{base}/accounts/tokens/")
        assert page.inner_text(".nav-username") == "grace"
        assert me(page, base)["groups"] == ["premium", "staff"]
        assert me(page, base)["is_staff"] is True

        page.goto(f"{base}/")
        page.click("button:has-text('Sign out')")
        page.wait_for_url(f"{oidc_provider.url}/oauth2/end_session?**", wait_until="domcontentloaded")
        page.click("button:has-text('End session')")
        page.wait_for_url(f"{base}/")
        assert page.locator(".nav-user a:has-text('Sign in')").count() == 1
        page.goto(f"{base}/api/v1/me/")
        assert "detail" in json.loads(page.inner_text("body"))


def test_local_sign_up_sign_out_and_sign_in(browser_env, live_server, settings):
    base = live_server.url
    with chromium_page() as page:
        page.goto(f"{base}/accounts/signup/")
        page.fill("input[name=username]", "heidi")
        page.fill("input[name=email]", "heidi@example.com")
        page.fill("input[name=password1]", "amber-lantern-58")
        page.fill("input[name=password2]", "amber-lantern-58")
        page.click("button:has-text('Create account')")
        page.wait_for_url(f"{base}{reverse('dashboard')}")  # a new user lands on the dashboard
        assert page.inner_text(".nav-username") == "heidi"

        page.click("button:has-text('Sign out')")
        page.wait_for_url(f"{base}/")
        assert page.locator(".nav-username").count() == 0

        page.goto(f"{base}/accounts/login/?next=/accounts/tokens/")
        page.fill("input[name=username]", "heidi")
        page.fill("input[name=password]", "amber-lantern-58")
        page.click("button:has-text('Sign in')")
        page.wait_for_url(f"{base}/accounts/tokens/")
        assert page.inner_text(".nav-username") == "heidi"
