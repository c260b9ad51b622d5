"""``Cache-Control: private, no-store`` on every response that belongs to one person.

A page or API answer made for a signed-in user (portfolio, account, tokens,
``/api/v1/account``) must not be kept by a shared cache (a proxy, a CDN) nor
written to disk by the browser, where the next person at the machine or
behind the proxy could read it. Whether a response is personal is decided
from the request and the response, not view by view, so that a new view
cannot forget it:

- the request carries credentials: an ``Authorization`` header (API tokens,
  the provider's access tokens) or the session cookie (every signed-in
  browser request, and an anonymous one whose session holds sign-in state);
- or the response sets or deletes the session cookie (sign-in, sign-out).

Anonymous public pages keep their caching headers, and static files never
reach this middleware (WhiteNoise answers them first).
"""

from __future__ import annotations

from collections.abc import Callable

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.decorators import sync_and_async_middleware


def is_personal(request: HttpRequest, response: HttpResponse) -> bool:
    session_cookie = settings.SESSION_COOKIE_NAME
    return (
        "HTTP_AUTHORIZATION" in request.META or session_cookie in request.COOKIES or session_cookie in response.cookies
    )


def _mark(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if is_personal(request, response):
        # patch_cache_control drops a conflicting "public" and keeps other directives (max-age=0, …).
        patch_cache_control(response, private=True, no_store=True)
    return response


@sync_and_async_middleware
def private_response_middleware(get_response: Callable) -> Callable:
    """Marks personal responses ``private, no-store``; placed before SessionMiddleware, to see its cookie."""

    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            return _mark(request, await get_response(request))

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            return _mark(request, get_response(request))

    return middleware
