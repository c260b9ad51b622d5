"""ID tokens and Bearer access tokens, signed in the test with a key it serves as a JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import SuspiciousOperation
from django.test import Client

from accounts import services
from accounts.oidc import ProviderBackend
from accounts.tests.providers import unsigned_token

pytestmark = pytest.mark.django_db

CLIENT = "app-client"


def id_claims(key_server, **overrides):
    now = int(time.time())
    claims = {
        "sub": "sub-1",
        "iss": key_server.issuer,
        "aud": CLIENT,
        "iat": now,
        "exp": now + 3600,
        "nonce": "n-1",
        "token_use": "id",
        "cognito:username": "carol",
        "cognito:groups": ["premium"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def access_claims(key_server, **overrides):
    now = int(time.time())
    claims = {
        "sub": "sub-1",
        "iss": key_server.issuer,
        "client_id": CLIENT,
        "token_use": "access",
        "scope": "openid email",
        "iat": now,
        "exp": now + 3600,
        "username": "carol",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def verify(token, nonce="n-1"):
    return ProviderBackend().verify_token(token, nonce=nonce)


# --- ID tokens --------------------------------------------------------------------


def test_valid_id_token_is_accepted(key_settings, signing_key):
    assert verify(signing_key.sign(id_claims(signing_key)))["sub"] == "sub-1"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "another-client"}, "wrong_audience"),
        ({"aud": ["another-client", CLIENT]}, "wrong_audience"),  # several audiences and no azp
        ({"aud": None}, "missing_claim"),
        ({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"}, "wrong_issuer"),
        ({"exp": int(time.time()) - 3600}, "token_expired"),
        ({"nonce": "replayed-nonce"}, "wrong_nonce"),
        ({"nonce": None}, "wrong_nonce"),
        ({"token_use": "access"}, "wrong_token_use"),
    ],
)
def test_bad_id_tokens_are_refused(key_settings, signing_key, overrides, reason):
    with pytest.raises(SuspiciousOperation, match=reason):
        verify(signing_key.sign(id_claims(signing_key, **overrides)))


def test_several_audiences_with_this_client_as_authorized_party_pass(key_settings, signing_key):
    token = signing_key.sign(id_claims(signing_key, aud=["other", CLIENT], azp=CLIENT))
    assert verify(token)["azp"] == CLIENT


def test_unsigned_id_token_is_refused(key_settings, signing_key):
    with pytest.raises(SuspiciousOperation, match="bad_algorithm"):
        verify(unsigned_token(id_claims(signing_key)))


def test_id_token_signed_with_the_public_key_as_hmac_secret_is_refused(key_settings, signing_key):
    # The classic algorithm confusion: HS256 "signed" with the published public key.
    public_pem = signing_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": signing_key.kid}).encode())
    payload = b64url(json.dumps(id_claims(signing_key)).encode())
    signature = b64url(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    with pytest.raises(SuspiciousOperation, match="bad_algorithm"):
        verify(f"{header}.{payload}.{signature}")


def test_id_token_signed_by_another_key_with_the_same_kid_is_refused(key_settings, signing_key):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SuspiciousOperation, match="bad_signature"):
        verify(signing_key.sign(id_claims(signing_key), key=stranger))


def test_id_token_with_an_unknown_kid_is_refused(key_settings, signing_key):
    with pytest.raises(SuspiciousOperation, match="unknown_key"):
        verify(signing_key.sign(id_claims(signing_key), kid="not-published"))


def test_tampered_id_token_is_refused(key_settings, signing_key):
    header, payload, signature = signing_key.sign(id_claims(signing_key)).split(".")
    other_payload = signing_key.sign(id_claims(signing_key, sub="someone-else")).split(".")[1]
    with pytest.raises(SuspiciousOperation, match="bad_signature"):
        verify(f"{header}.{other_payload}.{signature}")
    assert payload != other_payload


# --- Bearer access tokens on the API -------------------------------------------------


def me(token: str):
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def carol(key_settings, signing_key):
    """A user who has signed in through the provider once."""
    return services.user_from_oidc_claims(issuer=signing_key.issuer, claims=id_claims(signing_key))


def test_valid_access_token_authenticates_the_api(carol, signing_key):
    response = me(signing_key.sign(access_claims(signing_key)))
    assert response.status_code == 200, response.content
    assert response.json()["username"] == carol.username
    assert response.json()["groups"] == ["premium"]
    assert response.json()["auth"] == "access_token"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"exp": int(time.time()) - 120}, "token_expired"),
        ({"client_id": "another-client"}, "wrong_client"),
        ({"client_id": None}, "wrong_client"),
        ({"token_use": None}, "wrong_token_use"),
        ({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}, "wrong_issuer"),
        ({"sub": "never-signed-in"}, "unknown_user"),
    ],
)
def test_bad_access_tokens_are_refused_with_a_code(carol, signing_key, overrides, code):
    response = me(signing_key.sign(access_claims(signing_key, **overrides)))
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_id_token_used_as_access_token_is_refused(carol, signing_key):
    response = me(signing_key.sign(id_claims(signing_key)))
    assert response.status_code == 401
    assert response.json()["code"] == "wrong_token_use"


def test_unsigned_access_token_is_refused(carol, signing_key):
    response = me(unsigned_token(access_claims(signing_key)))
    assert response.status_code == 401
    assert response.json()["code"] == "bad_algorithm"


def test_access_token_of_a_deactivated_user_is_refused(carol, signing_key):
    services.user_deactivate(user=carol)
    response = me(signing_key.sign(access_claims(signing_key)))
    assert response.status_code == 401
    assert response.json()["code"] == "inactive_user"


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer a b", "Bearer " + "x" * 9000])
def test_malformed_authorization_header_is_refused(carol, header):
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "malformed_token"


def test_garbage_bearer_token_is_refused(carol):
    response = me("not-a-jwt")
    assert response.status_code == 401
    assert response.json()["code"] == "malformed_token"


def test_anonymous_api_request_is_refused(db):
    response = Client().get("/api/v1/me/")
    assert response.status_code == 401


def test_provider_access_tokens_are_refused_without_a_provider(make_user):
    response = me("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
