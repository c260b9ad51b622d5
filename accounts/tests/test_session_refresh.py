"""Provider sign-ins are renewed on page navigations only; background requests are never redirected."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from accounts.tests.providers import query_of
from accounts.tests.test_oidc_flow import COGNITO_CLAIMS, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def expired_client(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    sign_in(client, oidc_provider, unique_sub)
    session = client.session
    session["oidc_id_token_expiration"] = time.time() - 1
    session.save()
    return client


def test_page_navigation_after_expiry_renews_silently_at_the_provider(expired_client):
    response = expired_client.get("/accounts/tokens/", headers={"Sec-Fetch-Mode": "navigate", "Accept": "text/html"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/oidc/authenticate/?next=%2Faccounts%2Ftokens%2F&refresh=1"
    provider = expired_client.get(response["Location"])
    assert "prompt=none" in provider["Location"]


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/me/", {"Accept": "application/json"}),
        ("/api/v1/me/", {"Sec-Fetch-Mode": "navigate", "Accept": "*/*"}),
        ("/accounts/tokens/", {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}),
        ("/accounts/tokens/", {"X-Requested-With": "XMLHttpRequest", "Accept": "text/html"}),
    ],
)
def test_background_requests_are_not_redirected(expired_client, path, headers):
    response = expired_client.get(path, headers=headers)
    assert response.status_code == 200


def test_fresh_sign_in_is_not_redirected(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    sign_in(client, oidc_provider, unique_sub)
    response = client.get("/accounts/tokens/", headers={"Sec-Fetch-Mode": "navigate", "Accept": "text/html"})
    assert response.status_code == 200


def test_local_sign_ins_are_never_redirected(make_user):
    client = Client()
    client.force_login(make_user("alice"))
    response = client.get("/accounts/tokens/", headers={"Sec-Fetch-Mode": "navigate", "Accept": "text/html"})
    assert response.status_code == 200


def test_provider_session_over_at_renewal_leads_to_sign_in_again(expired_client):
    renewal = expired_client.get("/accounts/oidc/authenticate/", {"next": "/accounts/tokens/", "refresh": "1"})
    state = query_of(renewal["Location"])["state"]
    response = expired_client.get("/accounts/oidc/callback/", {"error": "login_required", "state": state})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert expired_client.get("/api/v1/me/").status_code == 401
