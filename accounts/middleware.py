"""Renewal of provider sign-ins when the ID token's lifetime is over."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

PROVIDER_BACKEND = "accounts.oidc.ProviderBackend"
# Background requests must never be redirected to the provider: a fetch() or
# an API client cannot follow a sign-in page, and a socket cannot at all.
NEVER_REFRESHED_PREFIXES = ("/api/", "/ws/", "/healthz", "/static/", "/media/", "/accounts/oidc/")


def is_page_navigation(request: HttpRequest) -> bool:
    """A top-level GET from a browser tab, the only request a redirect cannot break."""
    if request.method != "GET" or request.path.startswith(NEVER_REFRESHED_PREFIXES):
        return False
    mode = request.headers.get("Sec-Fetch-Mode")
    if mode is not None:
        return mode == "navigate" and request.headers.get("Sec-Fetch-Dest", "document") == "document"
    if request.headers.get("X-Requested-With"):
        return False
    return "text/html" in request.headers.get("Accept", "")


class ProviderSessionRefresh:
    """Re-checks a provider sign-in with the provider once its ID token has expired.

    Only page navigations are redirected (with ``prompt=none``, so a user still
    signed in at the provider comes straight back); background requests go on
    with the Django session, which outlives the ID token. Local sign-ins are
    left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Cheapest checks first: most requests never load the session or the user.
        if (
            settings.AUTH_PROVIDER != "local"
            and is_page_navigation(request)
            and request.session.get(BACKEND_SESSION_KEY) == PROVIDER_BACKEND
            and request.session.get("oidc_id_token_expiration", 0) <= time.time()
            and request.user.is_authenticated
        ):
            query = urlencode({"next": request.get_full_path(), "refresh": "1"})
            return HttpResponseRedirect(f"{reverse('oidc_authentication_init')}?{query}")
        return self.get_response(request)
