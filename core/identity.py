"""Identity provider configuration, read from the environment by ``stockchat/settings.py``.

``provider_settings(environ, provider)`` turns the ``COGNITO_*`` or ``OIDC_*``
variables into the Django settings that the OpenID Connect backend, views and
API authentication read. Amazon Cognito needs five variables and every endpoint
is derived from them; any other provider is described endpoint by endpoint.
A provider that is only half configured is an ``ImproperlyConfigured`` error
naming every missing variable.

Settings import this module, so it imports no app: ``accounts`` runs the sign-in and reads
the resulting ``OIDC_*`` settings at run time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_str

COGNITO_REQUIRED = (
    "COGNITO_REGION",
    "COGNITO_USER_POOL_ID",
    "COGNITO_CLIENT_ID",
    "COGNITO_CLIENT_SECRET",
    "COGNITO_DOMAIN",
)
OIDC_REQUIRED = (
    "OIDC_ISSUER",
    "OIDC_RP_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
)
DEFAULT_SCOPES = "openid email profile"

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_POOL_ID = re.compile(r"^(?P<region>[a-z]{2}(-[a-z]+)+-\d)_[0-9A-Za-z]+$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d+)?$")


def auth_provider(environ: Mapping[str, str]) -> str:
    """Which sign-in the variables select: "cognito" when any ``COGNITO_*`` variable is set,
    "oidc" when any ``OIDC_*`` one is, else "local" (Django's own accounts)."""
    cognito = sorted(k for k in environ if k.startswith("COGNITO_") and environ[k].strip())
    oidc = sorted(k for k in environ if k.startswith("OIDC_") and environ[k].strip())
    if cognito and oidc:
        raise ImproperlyConfigured(
            f"Set either COGNITO_* or OIDC_* variables, not both (found {', '.join(cognito + oidc)})."
        )
    return "cognito" if cognito else "oidc" if oidc else "local"


def _missing(environ: Mapping[str, str], names: tuple[str, ...], provider: str) -> None:
    missing = [name for name in names if not env_str(environ, name)]
    if missing:
        raise ImproperlyConfigured(
            f"{provider} sign-in is half configured: set {', '.join(missing)} "
            f"(or unset every {names[0].split('_')[0]}_* variable to use local accounts)."
        )


def _https_url(environ: Mapping[str, str], name: str, *, allow_http: bool) -> str:
    value = env_str(environ, name)
    if value and not (value.startswith("https://") or (allow_http and value.startswith("http://"))):
        raise ImproperlyConfigured(f"{name}={value!r} must be an https:// URL.")
    return value


def cognito_endpoints(*, region: str, user_pool_id: str, domain: str) -> dict[str, str]:
    """Every Cognito endpoint, from the region, the user pool and the hosted UI domain."""
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
    hosted = f"https://{domain}"
    return {
        "issuer": issuer,
        "authorization": f"{hosted}/oauth2/authorize",
        "token": f"{hosted}/oauth2/token",
        "userinfo": f"{hosted}/oauth2/userInfo",
        "jwks": f"{issuer}/.well-known/jwks.json",
        "logout": f"{hosted}/logout",
    }


def cognito_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    _missing(environ, COGNITO_REQUIRED, "Amazon Cognito")
    region = env_str(environ, "COGNITO_REGION")
    pool = env_str(environ, "COGNITO_USER_POOL_ID")
    domain = env_str(environ, "COGNITO_DOMAIN").removeprefix("https://").rstrip("/")
    if not _REGION.match(region):
        raise ImproperlyConfigured(f"COGNITO_REGION={region!r} is not an AWS region (e.g. eu-west-1).")
    match = _POOL_ID.match(pool)
    if not match:
        raise ImproperlyConfigured(f"COGNITO_USER_POOL_ID={pool!r} is not a user pool id (e.g. eu-west-1_AbCdEf123).")
    if match["region"] != region:
        raise ImproperlyConfigured(
            f"COGNITO_USER_POOL_ID={pool!r} belongs to region {match['region']}, not COGNITO_REGION={region!r}."
        )
    if not _HOST.match(domain):
        raise ImproperlyConfigured(
            f"COGNITO_DOMAIN={domain!r} must be the hosted UI host name, "
            "e.g. stockchat.auth.eu-west-1.amazoncognito.com or auth.example.com."
        )
    endpoints = cognito_endpoints(region=region, user_pool_id=pool, domain=domain)
    return {
        "OIDC_ISSUER": endpoints["issuer"],
        "OIDC_RP_CLIENT_ID": env_str(environ, "COGNITO_CLIENT_ID"),
        "OIDC_RP_CLIENT_SECRET": env_str(environ, "COGNITO_CLIENT_SECRET"),
        "OIDC_OP_AUTHORIZATION_ENDPOINT": endpoints["authorization"],
        "OIDC_OP_TOKEN_ENDPOINT": endpoints["token"],
        "OIDC_OP_USER_ENDPOINT": endpoints["userinfo"],
        "OIDC_OP_JWKS_ENDPOINT": endpoints["jwks"],
        "OIDC_OP_LOGOUT_ENDPOINT": endpoints["logout"],
        "OIDC_LOGOUT_STYLE": "cognito",
        "OIDC_RP_SCOPES": env_str(environ, "COGNITO_SCOPES") or DEFAULT_SCOPES,
        "OIDC_VERIFY_KID": True,
        # Cognito's token endpoint takes the client secret as HTTP Basic auth.
        "OIDC_TOKEN_USE_BASIC_AUTH": True,
        "OIDC_PROVIDER_NAME": "Amazon Cognito",
    }


def generic_oidc_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    _missing(environ, OIDC_REQUIRED, "OpenID Connect")
    # Plain http is accepted only for a provider on this machine (tests, development).
    issuer = env_str(environ, "OIDC_ISSUER")
    allow_http = issuer.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
    names = (
        "OIDC_ISSUER",
        "OIDC_OP_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT",
        "OIDC_OP_JWKS_ENDPOINT",
        "OIDC_OP_LOGOUT_ENDPOINT",
    )
    urls = {name: _https_url(environ, name, allow_http=allow_http) for name in names}
    return {
        **urls,
        "OIDC_RP_CLIENT_ID": env_str(environ, "OIDC_RP_CLIENT_ID"),
        "OIDC_RP_CLIENT_SECRET": env_str(environ, "OIDC_RP_CLIENT_SECRET"),
        "OIDC_LOGOUT_STYLE": "oidc",
        "OIDC_RP_SCOPES": env_str(environ, "OIDC_RP_SCOPES") or DEFAULT_SCOPES,
        "OIDC_VERIFY_KID": env_bool(environ, "OIDC_VERIFY_KID", default=True),
        "OIDC_TOKEN_USE_BASIC_AUTH": env_bool(environ, "OIDC_TOKEN_USE_BASIC_AUTH", default=False),
        "OIDC_PROVIDER_NAME": env_str(environ, "OIDC_PROVIDER_NAME") or "single sign-on",
    }


# Settings that hold whatever the provider is: the hardened flow is not configurable.
FIXED_OIDC_SETTINGS: dict[str, Any] = {
    "OIDC_RP_SIGN_ALGO": "RS256",
    "OIDC_USE_PKCE": True,
    "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
    "OIDC_USE_NONCE": True,
    "OIDC_ALLOW_UNSECURED_JWT": False,
    "OIDC_STORE_ID_TOKEN": True,
    "OIDC_TIMEOUT": 10,
    "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc_authentication_callback",
    "OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS": 15 * 60,
    "OIDC_GROUPS_CLAIM": "cognito:groups",
}


def provider_settings(environ: Mapping[str, str], provider: str) -> dict[str, Any]:
    """The ``OIDC_*`` Django settings for ``provider`` ("cognito", "oidc" or "local")."""
    if provider == "cognito":
        values = cognito_settings(environ)
    elif provider == "oidc":
        values = generic_oidc_settings(environ)
    else:
        # Present but empty, so that code reading them needs no special case.
        values = {name: "" for name in (*OIDC_REQUIRED, "OIDC_OP_USER_ENDPOINT", "OIDC_OP_LOGOUT_ENDPOINT")}
        values.update({"OIDC_LOGOUT_STYLE": "", "OIDC_PROVIDER_NAME": "", "OIDC_VERIFY_KID": True})
        # mozilla-django-oidc's own defaults, so that every name is set whatever the provider.
        values.update({"OIDC_RP_SCOPES": "openid email", "OIDC_TOKEN_USE_BASIC_AUTH": False})
    return {**FIXED_OIDC_SETTINGS, **values}
