"""REST API authentication besides the session: ``Authorization: Bearer <token>``.

The WebSocket accepts the same tokens through the same two checks,
``personal_token_holder`` and ``access_token_holder`` (accounts/consumers.py).

Two kinds of bearer token are accepted: personal API tokens (``sct_…``) made
on the tokens page, and access tokens issued by the identity provider, checked
as API Gateway's Cognito authorizer checks them (signature against the JWKS,
issuer, expiry, ``token_use == "access"`` and ``client_id``). Refusals are a
401 whose body has a stable ``code`` and a human ``detail``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts import services
from accounts.models import ApiToken, Identity, User
from accounts.tokens import TokenRejected, verify_signed_token

MAX_TOKEN_LENGTH = 8192


def bearer_token(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH or " " in token:
        raise failed("malformed_token", "The Authorization header must be 'Bearer <token>'.")
    return token


def failed(code: str, detail: str) -> AuthenticationFailed:
    return AuthenticationFailed({"code": code, "detail": detail})


class BearerAuthentication(BaseAuthentication):
    def authenticate_header(self, request) -> str:
        return 'Bearer realm="stockchat"'


def personal_token_holder(token: str) -> ApiToken:
    """The active personal token ``token`` is, with its active user; ``TokenRejected`` otherwise."""
    record = services.api_token_check(token)
    if record is None:
        raise TokenRejected("invalid_token", "The API token is unknown or revoked.")
    if not record.user.is_active:
        raise TokenRejected("inactive_user", "The account of this token is deactivated.")
    return record


def access_token_holder(token: str) -> tuple[User, dict[str, Any]]:
    """The active user of a provider access token and its claims; ``TokenRejected`` otherwise.

    Checked as API Gateway's Cognito authorizer checks it: signature, issuer,
    expiry, ``token_use == "access"`` and ``client_id``.
    """
    if settings.AUTH_PROVIDER == "local":
        raise TokenRejected("invalid_token", "This site accepts only its own API tokens.")
    claims = verify_signed_token(
        token,
        jwks_url=settings.OIDC_OP_JWKS_ENDPOINT,
        issuer=settings.OIDC_ISSUER,
        audience=None,  # Cognito access tokens carry client_id, not aud
        verify_kid=settings.OIDC_VERIFY_KID,
    )
    if claims.get("token_use") != "access":
        raise TokenRejected("wrong_token_use", "Send the access token, not the ID token.")
    if claims.get("client_id") != settings.OIDC_RP_CLIENT_ID:
        raise TokenRejected("wrong_client", "The access token was issued to another client.")
    identity = (
        Identity.objects.select_related("user").filter(issuer=settings.OIDC_ISSUER, subject=claims["sub"]).first()
    )
    if identity is None:
        raise TokenRejected("unknown_user", "Sign in to the site once before using its API.")
    if not identity.user.is_active:
        raise TokenRejected("inactive_user", "This account is deactivated.")
    return identity.user, claims


class PersonalTokenAuthentication(BearerAuthentication):
    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or not token.startswith(services.TOKEN_PREFIX):
            return None
        try:
            record = personal_token_holder(token)
        except TokenRejected as exc:
            raise failed(exc.code, exc.detail) from None
        return record.user, record


class ProviderAccessTokenAuthentication(BearerAuthentication):
    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or token.startswith(services.TOKEN_PREFIX):
            return None
        try:
            return access_token_holder(token)
        except TokenRejected as exc:
            raise failed(exc.code, exc.detail) from None
