"""Fixtures for the sign-in tests: a real OIDC provider on loopback and settings pointing at it."""

from __future__ import annotations

import re
import time

import pytest
from django.core.cache import cache

from accounts.tests.providers import MockProvider, SigningKeyServer
from core.identity import provider_settings
from testsupport.plugin import require_service
from testsupport.servers import ServerUnavailable


@pytest.fixture(scope="session")
def oidc_provider():
    try:
        provider = MockProvider().start()
    except ServerUnavailable as exc:
        require_service(str(exc))
    yield provider
    provider.stop()


def use_provider(settings, environment: dict[str, str]) -> None:
    """Switch the running settings to a provider, as these variables would at start-up."""
    settings.AUTH_PROVIDER = "oidc"
    for name, value in provider_settings(environment, "oidc").items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "accounts.oidc.ProviderBackend",
    ]
    cache.clear()


@pytest.fixture
def oidc_settings(settings, oidc_provider):
    use_provider(settings, oidc_provider.environment())
    settings.STOCKCHAT_STAFF_GROUPS = ["staff"]
    settings.STOCKCHAT_SUPERUSER_GROUPS = ["admin"]
    return settings


@pytest.fixture(scope="session")
def signing_key():
    server = SigningKeyServer().start()
    yield server
    server.stop()


@pytest.fixture
def key_settings(settings, signing_key):
    """Settings for a Cognito-like provider whose keys the test holds."""
    use_provider(
        settings,
        {
            "OIDC_ISSUER": signing_key.issuer,
            "OIDC_RP_CLIENT_ID": "app-client",
            "OIDC_RP_CLIENT_SECRET": "app-secret",
            "OIDC_OP_AUTHORIZATION_ENDPOINT": "http://127.0.0.1:9/oauth2/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": "http://127.0.0.1:9/oauth2/token",
            "OIDC_OP_JWKS_ENDPOINT": signing_key.url,
        },
    )
    return settings


@pytest.fixture
def unique_sub(request):
    """A subject no other test uses, since the provider lives for the whole session."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name[:40]) + f"-{time.monotonic_ns()}"
