"""Personal responses are ``Cache-Control: private, no-store``; anonymous public ones and static files are not."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts import services as account_services
from testsupport.urls import fill_route, site_routes

pytestmark = pytest.mark.django_db

# A value for each path converter: pages that find nothing answer 404, which must be private too.
SAMPLE_VALUES = {
    "int": "1",
    "id": "1",
    "str": "ACME",
    "slug": "acme",
    "path": "1",
    "uuid": "00000000-0000-0000-0000-000000000001",
}


def every_path() -> list[str]:
    """One concrete path for each URL pattern of the site."""
    return [fill_route(route, lambda m: SAMPLE_VALUES[m["converter"] or "str"]) for route in site_routes()]


def assert_private(response, what: str) -> None:
    directives = {d.strip().split("=")[0] for d in response.get("Cache-Control", "").split(",")}
    assert {"private", "no-store"} <= directives, f"{what}: {response.status_code} {response.get('Cache-Control')!r}"
    assert "public" not in directives, what


def test_every_page_and_api_answer_to_a_signed_in_browser_is_private(make_user):
    paths = every_path()
    assert {"/accounts/me/", "/portfolio/", "/api/v1/account", "/accounts/tokens/"} <= set(paths)
    assert len(paths) > 60, paths  # the walk reached the apps' and the admin's patterns
    client = Client(raise_request_exception=False)
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    statuses = set()
    for path in paths:
        response = client.get(path)
        statuses.add(response.status_code)
        assert_private(response, f"GET {path}")
    assert 200 in statuses


def test_every_api_answer_to_a_bearer_token_is_private(make_user):
    _, token = account_services.api_token_create(user=make_user("alice"), name="script")
    client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {token}"})
    api_paths = [path for path in every_path() if path.startswith("/api/v1/")]
    assert "/api/v1/account" in api_paths
    for path in api_paths:
        assert_private(client.get(path), f"GET {path}")
    # A refused token is about a credential too.
    refused = Client(headers={"Authorization": "Bearer sct_nope_nope"}).get("/api/v1/account")
    assert refused.status_code == 401
    assert_private(refused, "refused token")


def test_sign_in_and_sign_out_answers_are_private(make_user):
    make_user("alice")
    client = Client()
    signed_in = client.post("/accounts/login/", {"username": "alice", "password": "correct-horse-9"})
    assert signed_in.status_code == 302
    assert_private(signed_in, "sign-in")
    signed_out = client.post("/accounts/logout/")
    assert signed_out.status_code == 302
    assert_private(signed_out, "sign-out")


def test_anonymous_public_pages_and_static_files_are_left_alone(live_static_file):
    client = Client()
    # (/accounts/login/ and /healthz are never cached, for anyone, by their own views.)
    for path in ("/", "/stocks/", "/api/v1/schema/", "/api/v1/docs/"):
        response = client.get(path)
        assert "sessionid" not in client.cookies, path
        assert "no-store" not in response.get("Cache-Control", ""), path
        assert "private" not in response.get("Cache-Control", ""), path
    static = client.get(live_static_file)
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")


@pytest.fixture
def live_static_file(settings):
    # WhiteNoise serves STATICFILES_DIRS itself in tests (autorefresh with DEBUG-like finders).
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    return "/static/css/stockchat.css"
