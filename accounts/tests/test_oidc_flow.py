"""Sign-in through a real OpenID Connect provider on loopback, and every way to abuse it."""

from __future__ import annotations

import base64
import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import oidc
from accounts.models import Identity
from accounts.tests.providers import CLIENT_ID, path_and_query, query_of

pytestmark = pytest.mark.django_db

COGNITO_CLAIMS = {"email": "bob@example.com", "cognito:username": "bob", "cognito:groups": ["premium", "staff"]}


def start(client: Client, next_url: str | None = None) -> str:
    response = client.get("/accounts/oidc/authenticate/", {"next": next_url} if next_url else {})
    assert response.status_code == 302
    return response["Location"]


def sign_in(client: Client, provider, sub: str, next_url: str | None = None):
    callback = provider.authorize(start(client, next_url), sub)
    return client.get(path_and_query(callback))


def signed_in_user(client: Client):
    response = client.get("/api/v1/me/")
    return response.json() if response.status_code == 200 else None


def test_sign_in_through_the_provider_lands_back_signed_in_with_groups(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    response = sign_in(client, oidc_provider, unique_sub, next_url="/accounts/tokens/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/tokens/"
    me = signed_in_user(client)
    assert me["username"] == "bob"
    assert me["email"] == "bob@example.com"
    assert me["groups"] == ["premium", "staff"]
    assert me["is_staff"] is True
    assert me["is_superuser"] is False
    identity = Identity.objects.get(subject=unique_sub)
    assert identity.issuer == oidc_provider.url
    assert not identity.user.has_usable_password()


def test_the_authorization_request_uses_pkce_state_and_nonce(oidc_settings):
    client = Client()
    params = query_of(start(client))
    assert params["client_id"] == CLIENT_ID
    assert params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256"
    stored = client.session["oidc_states"][params["state"]]
    assert stored["nonce"] == params["nonce"]
    verifier = stored["code_verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert params["code_challenge"] == challenge


def test_session_key_changes_at_sign_in(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    callback = oidc_provider.authorize(start(client), unique_sub)
    before = client.session.session_key
    client.get(path_and_query(callback))
    assert signed_in_user(client) is not None
    assert client.session.session_key != before


def test_groups_follow_the_provider_at_each_sign_in(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **{**COGNITO_CLAIMS, "cognito:groups": ["admin"]})
    client = Client()
    sign_in(client, oidc_provider, unique_sub)
    me = signed_in_user(client)
    assert (me["groups"], me["is_staff"], me["is_superuser"]) == (["admin"], True, True)
    oidc_provider.set_user(unique_sub, **{**COGNITO_CLAIMS, "cognito:groups": ["premium"]})
    client = Client()
    sign_in(client, oidc_provider, unique_sub)
    me = signed_in_user(client)
    assert (me["groups"], me["is_staff"], me["is_superuser"]) == (["premium"], False, False)


def provider_changes_user_after_issuing_tokens(monkeypatch, provider, sub: str, **claims) -> None:
    """The provider's record of ``sub`` becomes ``claims`` between the token exchange and the userinfo call.

    The ID token is signed with the claims of the sign-in; the userinfo
    endpoint answers with whatever the provider holds when it is asked, so
    from then on the two differ, as when userinfo is served by another system
    than the one signing tokens.
    """
    real_get_token = oidc.ProviderBackend.get_token

    def get_token(self, payload):
        tokens = real_get_token(self, payload)
        provider.set_user(sub, **claims)
        return tokens

    monkeypatch.setattr(oidc.ProviderBackend, "get_token", get_token)


def test_groups_only_in_userinfo_grant_nothing(oidc_settings, oidc_provider, unique_sub, monkeypatch):
    profile = {"email": "mallory@example.com", "cognito:username": "mallory"}
    oidc_provider.set_user(unique_sub, **profile)
    provider_changes_user_after_issuing_tokens(
        monkeypatch, oidc_provider, unique_sub, **profile, given_name="Mallory", **{"cognito:groups": ["admin"]}
    )
    client = Client()
    assert sign_in(client, oidc_provider, unique_sub).status_code == 302
    me = signed_in_user(client)
    assert (me["groups"], me["is_staff"], me["is_superuser"]) == ([], False, False)
    # Userinfo still completes the profile: the fix limits what it may add, not whether it is read.
    assert get_user_model().objects.get(identities__subject=unique_sub).first_name == "Mallory"


def test_groups_in_the_id_token_count_whatever_userinfo_says(oidc_settings, oidc_provider, unique_sub, monkeypatch):
    oidc_provider.set_user(unique_sub, **{**COGNITO_CLAIMS, "cognito:groups": ["admin"]})
    provider_changes_user_after_issuing_tokens(
        monkeypatch, oidc_provider, unique_sub, **{**COGNITO_CLAIMS, "cognito:groups": []}
    )
    client = Client()
    sign_in(client, oidc_provider, unique_sub)
    me = signed_in_user(client)
    assert (me["groups"], me["is_staff"], me["is_superuser"]) == (["admin"], True, True)


def test_same_subject_with_a_changed_email_is_the_same_user(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    first = Client()
    sign_in(first, oidc_provider, unique_sub)
    oidc_provider.set_user(unique_sub, **{**COGNITO_CLAIMS, "email": "robert@example.org"})
    second = Client()
    sign_in(second, oidc_provider, unique_sub)
    assert signed_in_user(first)["id"] == signed_in_user(second)["id"]
    assert signed_in_user(second)["email"] == "robert@example.org"
    assert get_user_model().objects.count() == 1


def test_another_subject_with_a_taken_email_gets_its_own_account(oidc_settings, oidc_provider, unique_sub):
    victim = get_user_model().objects.create_user("bob", "bob@example.com", "correct-horse-9")
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    sign_in(client, oidc_provider, unique_sub)
    me = signed_in_user(client)
    assert me["id"] != victim.pk
    assert me["username"] == "bob-2"


def test_sign_out_ends_the_session_and_goes_to_the_provider(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client(enforce_csrf_checks=True)
    sign_in(client, oidc_provider, unique_sub)
    assert signed_in_user(client) is not None
    id_token = client.session["oidc_id_token"]
    client.get("/")  # sets the CSRF cookie, as the page with the sign-out button does
    response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{oidc_provider.url}/oauth2/end_session?")
    params = query_of(location)
    assert params["post_logout_redirect_uri"] == "http://testserver/"
    assert params["id_token_hint"] == id_token
    assert params["client_id"] == CLIENT_ID
    assert signed_in_user(client) is None


def test_sign_out_without_csrf_token_is_refused(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client(enforce_csrf_checks=True)
    sign_in(client, oidc_provider, unique_sub)
    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/accounts/logout/").status_code == 405
    assert signed_in_user(client) is not None


def test_local_sign_in_page_hands_over_to_the_provider(oidc_settings):
    response = Client().get("/accounts/login/", {"next": "/accounts/tokens/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/oidc/authenticate/?next=%2Faccounts%2Ftokens%2F"
    assert Client().get("/accounts/signup/").status_code == 404


# --- abuse ------------------------------------------------------------------------


def assert_refused(response, client: Client, caplog=None, reason: str | None = None) -> None:
    assert response.status_code == 400
    assert b"Sign-in failed" in response.content
    assert signed_in_user(client) is None
    if reason is not None:
        assert reason in caplog.text


def test_callback_without_state_is_refused(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    callback = oidc_provider.authorize(start(client), unique_sub)
    response = client.get("/accounts/oidc/callback/", {"code": query_of(callback)["code"]})
    assert_refused(response, client)


def test_callback_with_an_unknown_state_is_refused(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    callback = oidc_provider.authorize(start(client), unique_sub)
    response = client.get("/accounts/oidc/callback/", {"code": query_of(callback)["code"], "state": "forged"})
    assert_refused(response, client)


def test_replayed_state_is_refused(oidc_settings, oidc_provider, unique_sub, caplog):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    callback = oidc_provider.authorize(start(client), unique_sub)
    assert client.get(path_and_query(callback)).status_code == 302
    replay = client.get(path_and_query(callback))
    assert replay.status_code == 400
    assert "state not found" in caplog.text
    client.post("/accounts/logout/")
    assert_refused(client.get(path_and_query(callback)), client)


def test_callback_replayed_into_another_browser_is_refused(oidc_settings, oidc_provider, unique_sub):
    # Login CSRF: an attacker's callback URL opened in the victim's browser.
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    attacker = Client()
    callback = oidc_provider.authorize(start(attacker), unique_sub)
    victim = Client()
    start(victim)
    assert_refused(victim.get(path_and_query(callback)), victim)


def test_wrong_nonce_is_refused(oidc_settings, oidc_provider, unique_sub, caplog):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    authorize_url = start(client)
    state = query_of(authorize_url)["state"]
    session = client.session
    session["oidc_states"][state]["nonce"] = "not-the-nonce-the-provider-saw"
    session.save()
    callback = oidc_provider.authorize(authorize_url, unique_sub)
    assert_refused(client.get(path_and_query(callback)), client, caplog, "wrong_nonce")


def test_code_issued_to_another_client_is_refused(oidc_settings, oidc_provider, unique_sub, caplog):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    foreign = start(client).replace(f"client_id={CLIENT_ID}", "client_id=someone-else")
    callback = oidc_provider.authorize(foreign, unique_sub)
    assert_refused(client.get(path_and_query(callback)), client, caplog, "invalid_grant")


def test_id_token_for_another_audience_is_refused(oidc_settings, oidc_provider, unique_sub, caplog, monkeypatch):
    # The provider's real ID token names this flow's client; the verification
    # expects a different audience, as for a token minted for another app.
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    callback = oidc_provider.authorize(start(client), unique_sub)
    real_verify = oidc.verify_signed_token
    monkeypatch.setattr(
        oidc, "verify_signed_token", lambda token, **kw: real_verify(token, **{**kw, "audience": "another-app"})
    )
    assert_refused(client.get(path_and_query(callback)), client, caplog, "wrong_audience")


def test_id_token_from_another_issuer_is_refused(oidc_settings, oidc_provider, unique_sub, caplog):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    callback = oidc_provider.authorize(start(client), unique_sub)
    oidc_settings.OIDC_ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Expected"
    assert_refused(client.get(path_and_query(callback)), client, caplog, "wrong_issuer")


def test_provider_error_in_the_callback_signs_nobody_in(oidc_settings, oidc_provider):
    client = Client()
    state = query_of(start(client))["state"]
    response = client.get("/accounts/oidc/callback/", {"error": "access_denied", "state": state})
    assert_refused(response, client)


def test_deactivated_user_cannot_sign_in(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    sign_in(Client(), oidc_provider, unique_sub)
    get_user_model().objects.filter(identities__subject=unique_sub).update(is_active=False)
    client = Client()
    assert_refused(sign_in(client, oidc_provider, unique_sub), client)


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "https:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "%2F%2Fevil.example",
        "/%2F/evil.example",
        "http://testserver@evil.example/",
        " //evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
    ],
)
def test_off_site_next_is_ignored_after_sign_in(oidc_settings, oidc_provider, unique_sub, next_url):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    response = sign_in(client, oidc_provider, unique_sub, next_url=next_url)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"  # where sign-in lands without a safe next
    assert signed_in_user(client) is not None


def test_local_next_survives_the_round_trip(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    response = sign_in(Client(), oidc_provider, unique_sub, next_url="/accounts/tokens/?tab=1")
    assert response["Location"] == "/accounts/tokens/?tab=1"


def test_provider_views_do_not_exist_without_a_provider(db):
    assert Client().get("/accounts/oidc/authenticate/").status_code == 404
    assert Client().get("/accounts/oidc/callback/", {"code": "x", "state": "y"}).status_code == 404


def test_signing_in_as_someone_else_replaces_the_first_account(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    oidc_provider.set_user(f"{unique_sub}-b", **{**COGNITO_CLAIMS, "cognito:username": "frank"})
    client = Client()
    sign_in(client, oidc_provider, unique_sub)
    response = sign_in(client, oidc_provider, f"{unique_sub}-b", next_url="/accounts/tokens/")
    assert response["Location"] == "/accounts/tokens/"
    assert signed_in_user(client)["username"] == "frank"
    assert client.session["oidc_id_token"]


def test_sign_out_with_cognito_goes_to_its_logout_url(oidc_settings, oidc_provider, unique_sub):
    oidc_provider.set_user(unique_sub, **COGNITO_CLAIMS)
    client = Client()
    sign_in(client, oidc_provider, unique_sub)
    oidc_settings.OIDC_LOGOUT_STYLE = "cognito"
    oidc_settings.OIDC_OP_LOGOUT_ENDPOINT = "https://stockchat.auth.eu-west-1.amazoncognito.com/logout"
    response = client.post("/accounts/logout/")
    assert response["Location"] == (
        "https://stockchat.auth.eu-west-1.amazoncognito.com/logout"
        f"?client_id={CLIENT_ID}&logout_uri=http%3A%2F%2Ftestserver%2F"
    )
    assert signed_in_user(client) is None


def test_local_sign_out_does_not_visit_the_provider(oidc_settings, make_user):
    client = Client()
    client.force_login(make_user("local-admin"), backend="django.contrib.auth.backends.ModelBackend")
    assert client.post("/accounts/logout/")["Location"] == "/"
