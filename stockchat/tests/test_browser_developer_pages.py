"""The developer pages in a real Chromium, under the site's Content-Security-Policy: the API docs
(Swagger UI) and GraphiQL, each served from the app's own files and signed in by the session."""

from __future__ import annotations

import pytest

from stockchat.tests.browser import open_page

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice(make_user):
    # Made before the browser starts: sync Playwright runs an event loop in this thread.
    return make_user("alice")


def test_swagger_ui_renders_the_operations_and_tries_one_signed_in(alice, site, browser):
    # open_page fails the test on any CSP violation, script error or dialog.
    with open_page(browser, site, alice) as watched:
        page = watched.page
        response = page.goto(f"{site.url}/api/v1/docs/")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        me = page.locator(".opblock-get:has(.opblock-summary-path[data-path='/api/v1/me/'])")
        me.wait_for()
        assert page.locator(".opblock-summary-path[data-path='/api/v1/orders']").count() >= 1
        # The session signs the request Swagger UI sends.
        me.locator(".opblock-summary").click()
        me.locator("button.try-out__btn").click()
        me.locator("button.execute").click()
        status = me.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for()
        assert status.inner_text().strip() == "200"
        assert '"username": "alice"' in me.locator(".live-responses-table tbody .microlight").first.inner_text()


def test_graphiql_runs_a_query_signed_in_with_its_files_from_the_app(alice, site, browser):
    # open_page fails the test on any CSP violation, script error or dialog.
    with open_page(browser, site, alice) as watched:
        page = watched.page
        response = page.goto(f"{site.url}/graphql/")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        editor = page.locator(".graphiql-query-editor .CodeMirror")
        editor.wait_for()
        page.evaluate(
            "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
            ".setValue('{ conversations { id } }')"
        )
        page.locator("button.graphiql-execute-button").click()
        result = page.locator(".graphiql-response .CodeMirror-code")
        result.filter(has_text="conversations").wait_for()
        assert '"conversations": []' in result.inner_text()
