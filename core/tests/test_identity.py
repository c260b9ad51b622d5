"""core/identity.py: the sign-in choice and the OIDC settings every provider sets."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from core.identity import auth_provider, provider_settings

COGNITO = {
    "COGNITO_REGION": "eu-west-1",
    "COGNITO_USER_POOL_ID": "eu-west-1_AbCdEf123",
    "COGNITO_CLIENT_ID": "4abc5def",
    "COGNITO_CLIENT_SECRET": "s3cret",
    "COGNITO_DOMAIN": "stockchat.auth.eu-west-1.amazoncognito.com",
}
OIDC = {
    "OIDC_ISSUER": "https://id.example.com",
    "OIDC_RP_CLIENT_ID": "stockchat",
    "OIDC_RP_CLIENT_SECRET": "s3cret",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://id.example.com/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "https://id.example.com/token",
    "OIDC_OP_JWKS_ENDPOINT": "https://id.example.com/jwks",
}


def test_the_variables_set_choose_the_sign_in():
    assert auth_provider({}) == "local"
    assert auth_provider({"COGNITO_REGION": "  "}) == "local"  # blank is unset
    assert auth_provider(COGNITO) == "cognito"
    assert auth_provider(OIDC) == "oidc"
    with pytest.raises(ImproperlyConfigured, match="not both"):
        auth_provider({**COGNITO, **OIDC})


def test_every_provider_sets_the_same_settings():
    # settings.py assigns each name by hand: a name one provider adds would go missing there.
    local = set(provider_settings({}, "local"))
    assert set(provider_settings(COGNITO, "cognito")) == local
    assert set(provider_settings(OIDC, "oidc")) == local


def test_settings_assign_every_provider_setting():
    # The test settings have no provider: local accounts, with the names present but empty.
    assert django_settings.AUTH_PROVIDER == "local"
    for name, value in provider_settings({}, "local").items():
        assert getattr(django_settings, name) == value, name
