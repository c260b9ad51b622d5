"""GraphiQL at /graphql/ in a real Chromium, under the site's Content-Security-Policy."""

from __future__ import annotations

import pytest

from stockchat.tests.browser import open_page

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice(make_user):
    # Made before the browser starts: sync Playwright runs an event loop in this thread.
    return make_user("alice")


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
