"""The client's address behind a known number of proxies, for HTTP requests and WebSockets alike.

Every proxy in front of the app (the ALB, and on Elastic Beanstalk also the
instance's nginx) appends the address of its own peer to ``X-Forwarded-For``.
Everything to the left of what those proxies wrote came from the client and
can say anything, so the address is read from the right: with
``STOCKCHAT_TRUSTED_PROXY_HOPS = n`` it is the n-th entry from the right end,
the one the outermost proxy wrote. The web servers' own header parsing
(daphne ``--proxy-headers``, uvicorn's) is not used: both take the leftmost
entry, which the client controls.

When that entry is missing (fewer entries than hops: the request did not pass
through every proxy, e.g. a health check sent by the load balancer itself) or
is not an IP address, the socket peer is kept. It is the nearest proxy's
address: clients cannot choose it, and at worst such requests share it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

FORWARDED_FOR_HEADER = b"x-forwarded-for"


def forwarded_client_address(forwarded_for: str | None, peer: str | None, hops: int) -> str | None:
    """The client's address: the ``hops``-th ``X-Forwarded-For`` entry from the right, else ``peer``.

    ``hops`` is the number of trusted proxies that each appended one entry; with
    0 the header is ignored. Repeated headers must be joined with commas, in order.
    """
    if hops <= 0 or not forwarded_for:
        return peer
    entries = forwarded_for.split(",")
    if len(entries) < hops:
        return peer
    try:
        return str(ipaddress.ip_address(entries[-hops].strip()))
    except ValueError:
        return peer


def _trusted_hops() -> int:
    return getattr(settings, "STOCKCHAT_TRUSTED_PROXY_HOPS", 0)


@sync_and_async_middleware
def client_address_middleware(get_response: Callable) -> Callable:
    """Sets ``REMOTE_ADDR`` to the client's address before anything reads it (rate limits, logs)."""

    def resolve(request: HttpRequest) -> None:
        address = forwarded_client_address(
            request.META.get("HTTP_X_FORWARDED_FOR"), request.META.get("REMOTE_ADDR"), _trusted_hops()
        )
        if address is not None:  # no peer (a Unix socket) and no usable header: left unset
            request.META["REMOTE_ADDR"] = address

    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            resolve(request)
            return await get_response(request)

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            resolve(request)
            return get_response(request)

    return middleware


def _joined_header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    values = [value.decode("latin-1") for key, value in headers if key.lower() == name]
    return ",".join(values) if values else None


class ClientAddressMiddleware:
    """ASGI middleware: ``scope["client"]`` gets the same address an HTTP request's ``REMOTE_ADDR`` gets."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        hops = _trusted_hops()
        if hops > 0:
            peer = scope.get("client")
            address = forwarded_client_address(
                _joined_header(scope.get("headers", ()), FORWARDED_FOR_HEADER), peer[0] if peer else None, hops
            )
            if address is not None and (peer is None or address != peer[0]):
                # The client's port is not forwarded; 0 says so, as uvicorn's own proxy support does.
                scope = {**scope, "client": [address, 0]}
        await self.app(scope, receive, send)
