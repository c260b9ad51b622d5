"""Provider configuration from the environment: Cognito from five variables, any OIDC provider, no half measures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts.providers import provider_logout_url
from core.identity import COGNITO_REQUIRED, OIDC_REQUIRED, provider_settings
from core.tests.test_identity import COGNITO, OIDC

ROOT = Path(__file__).resolve().parents[2]


def test_cognito_endpoints_are_derived_from_five_variables():
    values = provider_settings(COGNITO, "cognito")
    pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
    hosted = "https://stockchat.auth.eu-west-1.amazoncognito.com"
    assert values["OIDC_ISSUER"] == pool
    assert values["OIDC_OP_JWKS_ENDPOINT"] == f"{pool}/.well-known/jwks.json"
    assert values["OIDC_OP_AUTHORIZATION_ENDPOINT"] == f"{hosted}/oauth2/authorize"
    assert values["OIDC_OP_TOKEN_ENDPOINT"] == f"{hosted}/oauth2/token"
    assert values["OIDC_OP_USER_ENDPOINT"] == f"{hosted}/oauth2/userInfo"
    assert values["OIDC_OP_LOGOUT_ENDPOINT"] == f"{hosted}/logout"
    assert values["OIDC_RP_CLIENT_ID"] == "4abc5def"
    assert values["OIDC_RP_CLIENT_SECRET"] == "s3cret"
    assert values["OIDC_RP_SIGN_ALGO"] == "RS256"
    assert values["OIDC_USE_PKCE"] is True
    assert values["OIDC_VERIFY_KID"] is True


def test_cognito_domain_may_be_given_as_a_url_or_custom_domain():
    values = provider_settings({**COGNITO, "COGNITO_DOMAIN": "https://auth.example.com/"}, "cognito")
    assert values["OIDC_OP_AUTHORIZATION_ENDPOINT"] == "https://auth.example.com/oauth2/authorize"


def test_cognito_logout_url_has_client_id_and_logout_uri():
    url = provider_logout_url(
        style="cognito",
        endpoint="https://auth.example.com/logout",
        client_id="4abc5def",
        return_to="https://stockchat.example.com/",
    )
    assert url == "https://auth.example.com/logout?client_id=4abc5def&logout_uri=https%3A%2F%2Fstockchat.example.com%2F"


@pytest.mark.parametrize("missing", COGNITO_REQUIRED)
def test_half_configured_cognito_names_what_is_missing(missing):
    env = {k: v for k, v in COGNITO.items() if k != missing}
    with pytest.raises(ImproperlyConfigured, match=missing):
        provider_settings(env, "cognito")


@pytest.mark.parametrize("missing", OIDC_REQUIRED)
def test_half_configured_oidc_names_what_is_missing(missing):
    env = {k: v for k, v in OIDC.items() if k != missing}
    with pytest.raises(ImproperlyConfigured, match=missing):
        provider_settings(env, "oidc")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"COGNITO_REGION": "Ireland"}, "not an AWS region"),
        ({"COGNITO_USER_POOL_ID": "AbCdEf123"}, "not a user pool id"),
        ({"COGNITO_USER_POOL_ID": "us-east-1_AbCdEf123"}, "belongs to region us-east-1"),
        ({"COGNITO_DOMAIN": "auth.example.com/path?x"}, "hosted UI host name"),
    ],
)
def test_malformed_cognito_values_are_named(override, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        provider_settings({**COGNITO, **override}, "cognito")


def test_oidc_endpoints_must_be_https_except_on_loopback():
    with pytest.raises(ImproperlyConfigured, match="OIDC_OP_TOKEN_ENDPOINT"):
        provider_settings({**OIDC, "OIDC_OP_TOKEN_ENDPOINT": "http://id.example.com/token"}, "oidc")
    local = {k: v.replace("https://id.example.com", "http://127.0.0.1:9400") for k, v in OIDC.items()}
    assert provider_settings(local, "oidc")["OIDC_ISSUER"] == "http://127.0.0.1:9400"


def load(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COGNITO_", "OIDC_", "STOCKCHAT_"))}
    clean.update(DJANGO_SETTINGS_MODULE="stockchat.settings", DJANGO_SECRET_KEY="s" * 50)
    clean.update(DJANGO_ALLOWED_HOSTS="stockchat.example.com", **env)
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.AUTH_PROVIDER, s.OIDC_OP_JWKS_ENDPOINT, s.AUTHENTICATION_BACKENDS[-1], "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.CACHES['default']['BACKEND'], sep='|')"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def test_settings_start_with_cognito_and_secure_cookies():
    result = load({**COGNITO, "REDIS_URL": "redis://cache.internal:6379/0"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == [
        "cognito",
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json",
        "accounts.oidc.ProviderBackend",
        "True",
        "True",
        "django.core.cache.backends.redis.RedisCache",
    ]


def test_settings_refuse_to_start_half_configured():
    result = load({"COGNITO_USER_POOL_ID": "eu-west-1_AbCdEf123"})
    assert result.returncode != 0
    assert "set COGNITO_REGION, COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET, COGNITO_DOMAIN" in result.stderr


def test_settings_without_a_provider_use_local_accounts_and_memory_cache():
    result = load({})
    assert result.returncode == 0, result.stderr
    fields = result.stdout.strip().split("|")
    assert fields[0] == "local"
    assert fields[2] == "django.contrib.auth.backends.ModelBackend"
    assert fields[-1] == "django.core.cache.backends.locmem.LocMemCache"
