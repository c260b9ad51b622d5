"""Sign-in through Amazon Cognito or another OpenID Connect provider, hardened.

mozilla-django-oidc runs the authorization code flow; these subclasses add what
it leaves to the site: PKCE and nonce always on, the ID token verified with
RS256 against the provider's JWKS including issuer and audience, users bound to
(issuer, sub) instead of e-mail, ``next`` limited to paths on this site, and a
failure page instead of an error for a forged or replayed callback.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView
from requests.exceptions import RequestException

from accounts import services
from accounts.redirects import safe_next_url
from accounts.tokens import TokenRejected, verify_signed_token

logger = logging.getLogger(__name__)

SIGNIN_FAILED_TEMPLATE = "accounts/signin_failed.html"
ERROR_SIGNIN_FAILED = "Sign-in did not complete. Please start again."
# Answers to prompt=none meaning "the person must sign in again" (OIDC Core 3.1.2.6).
SIGNED_OUT_AT_PROVIDER = frozenset({"login_required", "interaction_required", "consent_required"})
# The only claims the userinfo endpoint may add: profile details. The userinfo
# answer is not signed, so anything that grants rights (groups, roles) or names
# the person (sub, iss) is taken from the verified ID token alone.
USERINFO_PROFILE_CLAIMS = frozenset(
    {"email", "email_verified", "given_name", "family_name", "name", "preferred_username", "cognito:username"}
)


class ProviderBackend(OIDCAuthenticationBackend):
    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The verified claims of the ID token; raises SuspiciousOperation otherwise."""
        if not isinstance(token, str) or not token:
            raise SuspiciousOperation("The provider returned no ID token.")
        try:
            claims = verify_signed_token(
                token,
                jwks_url=settings.OIDC_OP_JWKS_ENDPOINT,
                issuer=settings.OIDC_ISSUER,
                audience=settings.OIDC_RP_CLIENT_ID,
                verify_kid=settings.OIDC_VERIFY_KID,
            )
        except TokenRejected as exc:
            raise SuspiciousOperation(f"ID token refused ({exc.code}): {exc.detail}") from None
        # With several audiences, the authorized party must be this client (OIDC Core 3.1.3.7).
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != settings.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token refused (wrong_audience): azp is not this client.")
        expected_nonce = kwargs.get("nonce")
        if not expected_nonce or claims.get("nonce") != expected_nonce:
            raise SuspiciousOperation("ID token refused (wrong_nonce): the nonce does not match this sign-in.")
        if claims.get("token_use", "id") != "id":
            raise SuspiciousOperation("ID token refused (wrong_token_use): not an ID token.")
        return claims

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The ID token's claims, completed by the userinfo endpoint when there is one.

        Groups and the subject always come from the verified ID token (Cognito
        puts ``cognito:groups`` there); userinfo only fills in missing profile
        claims (``USERINFO_PROFILE_CLAIMS``), and only when it describes the
        same subject. A groups claim that only userinfo carries grants nothing.
        """
        claims = dict(payload)
        if getattr(settings, "OIDC_OP_USER_ENDPOINT", ""):
            extra = super().get_userinfo(access_token, id_token, payload)
            if isinstance(extra, dict) and extra.get("sub") == payload["sub"]:
                for key in USERINFO_PROFILE_CLAIMS & extra.keys():
                    claims.setdefault(key, extra[key])
        return claims

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]):
        claims = self.get_userinfo(access_token, id_token, payload)
        try:
            return services.user_from_oidc_claims(issuer=settings.OIDC_ISSUER, claims=claims)
        except ValueError as exc:
            raise SuspiciousOperation(str(exc)) from None

    def authenticate(self, request: HttpRequest | None, **kwargs: Any):
        if request is None or "nonce" not in kwargs:
            return None  # only the callback view signs in through the provider
        try:
            return super().authenticate(request, **kwargs)
        except RequestException as exc:
            logger.warning("sign-in through the provider failed: %s", exc)
            return None


class ProviderOnlyMixin:
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.AUTH_PROVIDER == "local":
            raise Http404("No identity provider is configured.")
        return super().dispatch(request, *args, **kwargs)


class ProviderSignInView(ProviderOnlyMixin, OIDCAuthenticationRequestView):
    """Starts the code flow; remembers ``next`` only when it is a path on this site."""

    def get(self, request: HttpRequest) -> HttpResponse:
        response = super().get(request)
        request.session["oidc_login_next"] = safe_next_url(request, request.GET.get("next"))
        return response

    def get_extra_params(self, request: HttpRequest) -> dict[str, str]:
        params = dict(super().get_extra_params(request))
        if request.GET.get("refresh") == "1":
            # A silent renewal: the provider answers at once, signed in or not.
            params["prompt"] = "none"
        return params


class ProviderCallbackView(ProviderOnlyMixin, OIDCAuthenticationCallbackView):
    """Ends the code flow; a missing, unknown or replayed state is a failure page, never a sign-in."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if "code" in request.GET and "state" not in request.GET:
            return self.login_failure()
        try:
            return super().get(request)
        except SuspiciousOperation as exc:
            logger.warning("sign-in callback refused: %s", exc)
            return self.login_failure()

    @property
    def success_url(self) -> str:
        next_url = safe_next_url(self.request, self.request.session.pop("oidc_login_next", None))
        return next_url or resolve_url(settings.LOGIN_REDIRECT_URL)

    def login_success(self) -> HttpResponse:
        if self.request.user.is_authenticated and self.request.user != self.user:
            # Another account was signed in in this browser: end it fully first,
            # keeping what this sign-in stored in the session.
            kept = {key: self.request.session.get(key) for key in ("oidc_id_token", "oidc_login_next")}
            services.user_signed_out(session_key=self.request.session.session_key)
            auth.logout(self.request)
            self.request.session.update(kept)
        response = super().login_success()
        if response.status_code == 302 and not response.url.startswith("/"):
            return HttpResponseRedirect(resolve_url(settings.LOGIN_REDIRECT_URL))
        return response

    def login_failure(self) -> HttpResponse:
        if self.request.GET.get("error") in SIGNED_OUT_AT_PROVIDER:
            # A silent renewal found the provider session over: sign in again.
            return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
        return render(self.request, SIGNIN_FAILED_TEMPLATE, {"detail": ERROR_SIGNIN_FAILED}, status=400)
