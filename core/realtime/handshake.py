"""Who may open /ws/: the Origin check and the credentials a handshake carries.

Browsers send cookies with every WebSocket handshake, whichever page opens it,
and a page on another port or scheme of the same host is "same-site", so even
``SameSite=Lax`` cookies go along. The handshake is therefore checked as
Django's CSRF middleware checks an unsafe request's ``Origin``: it must be
exactly the site's own origin (the scheme, the ``Host`` and its port, with the
scheme seen through ``SECURE_PROXY_SSL_HEADER`` behind a load balancer) or one
of ``CSRF_TRUSTED_ORIGINS``.

The rules (docs/websocket.md, "Opening"):

- an ``Origin`` header that is not one of the site's origins is refused with
  HTTP 403, whatever credentials come with it;
- a handshake without ``Origin`` comes from a program, not a browser page; it
  may authenticate with a bearer token (header or ``auth`` frame), never with
  the session cookie: one that carries the session cookie and no
  ``Authorization`` header is refused with 403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.http.cookie import parse_cookie
from django.http.request import is_same_domain

MAX_TOKEN_LENGTH = 8192


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes, separator: str = ",") -> str | None:
    values = [value.decode("latin-1") for key, value in headers if key.lower() == name]
    return separator.join(values) if values else None


class HandshakeRequest(HttpRequest):
    """The handshake as Django sees an HTTP request, for ``get_host()`` and ``is_secure()``."""

    def __init__(self, scope: dict) -> None:
        super().__init__()
        for key, value in scope.get("headers", ()):
            name = "HTTP_" + key.decode("latin-1").upper().replace("-", "_")
            decoded = value.decode("latin-1")
            self.META[name] = f"{self.META[name]},{decoded}" if name in self.META else decoded
        server = scope.get("server") or ("", "")
        self.META["SERVER_NAME"], self.META["SERVER_PORT"] = str(server[0]), str(server[1] or "")
        self._socket_scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"

    def _get_scheme(self) -> str:
        return self._socket_scheme


def site_origin_allowed(scope: dict, origin: str) -> bool:
    """Whether ``origin`` is this site's, as ``CsrfViewMiddleware._origin_verified`` decides for HTTP."""
    request = HandshakeRequest(scope)
    try:
        host = request.get_host()  # validated against ALLOWED_HOSTS
    except DisallowedHost:
        pass
    else:
        if origin == f"{'https' if request.is_secure() else 'http'}://{host}":
            return True
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in trusted:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    return any(
        is_same_domain(parsed.netloc, urlsplit(pattern).netloc.lstrip("*"))
        for pattern in trusted
        if "*" in pattern and urlsplit(pattern).scheme == parsed.scheme
    )


def bearer_token(scope: dict) -> str | None:
    """The token of an ``Authorization: Bearer`` header; ``""`` when it is malformed, None without one.

    Another scheme is no token (None), as for the REST API: a browser sends Basic
    credentials along by itself to a site behind HTTP authentication.
    """
    header = _header(scope.get("headers", ()), b"authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH or " " in token or "," in token:
        return ""
    return token


def has_session_cookie(scope: dict) -> bool:
    """Whether the handshake carries the session cookie (parsed as Channels' session middleware does)."""
    header = _header(scope.get("headers", ()), b"cookie", separator="; ")
    return bool(header) and settings.SESSION_COOKIE_NAME in parse_cookie(header)


class SiteOriginValidator:
    """ASGI middleware for /ws/: refuses (403) handshakes the rules above do not let through."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "websocket":
            raise ValueError("SiteOriginValidator guards WebSocket handshakes only")
        origin = _header(scope.get("headers", ()), b"origin")
        if origin is not None:
            allowed = site_origin_allowed(scope, origin)
        else:
            allowed = bearer_token(scope) is not None or not has_session_cookie(scope)
        if not allowed:
            await WebsocketDenier()(scope, receive, send)
            return
        await self.app(scope, receive, send)
