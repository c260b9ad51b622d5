"""The client address behind the load balancer: read from the right of X-Forwarded-For, for HTTP and WebSockets."""

from __future__ import annotations

import pytest
from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import path

from core.realtime.handshake import SiteOriginValidator
from stockchat.deploy.client_address import ClientAddressMiddleware, client_address_middleware

ALB = "10.0.0.2"  # the socket peer: the nearest proxy

# (trusted hops, X-Forwarded-For as the app receives it, the client address the app must use)
CASES = [
    pytest.param(0, "203.0.113.9", ALB, id="no-load-balancer-ignores-the-header"),
    pytest.param(1, None, ALB, id="no-header-keeps-the-peer"),
    pytest.param(1, "203.0.113.9", "203.0.113.9", id="alb"),
    pytest.param(1, "6.6.6.6, 203.0.113.9", "203.0.113.9", id="alb-forged-leftmost-ignored"),
    pytest.param(1, "6.6.6.6,7.7.7.7,203.0.113.9", "203.0.113.9", id="alb-several-forged-entries"),
    pytest.param(2, "203.0.113.9, 10.0.1.5", "203.0.113.9", id="alb-and-nginx"),
    pytest.param(2, "6.6.6.6, 203.0.113.9, 10.0.1.5", "203.0.113.9", id="alb-and-nginx-forged-leftmost-ignored"),
    # Fewer entries than proxies: the request skipped one (a probe from the ALB itself);
    # the socket peer is the one address nobody outside chose.
    pytest.param(2, "10.0.1.5", ALB, id="fewer-entries-than-hops-keeps-the-peer"),
    pytest.param(1, "6.6.6.6, unknown", ALB, id="not-an-address-keeps-the-peer"),
    pytest.param(1, "6.6.6.6, 203.0.113.9:4711", ALB, id="address-with-port-keeps-the-peer"),
    pytest.param(1, "203.0.113.9, ", ALB, id="empty-entry-keeps-the-peer"),
    pytest.param(1, "6.6.6.6, 2001:DB8:0::1", "2001:db8::1", id="ipv6-normalised"),
]


def http_address(hops: int, forwarded_for: str | None, settings) -> str:
    settings.STOCKCHAT_TRUSTED_PROXY_HOPS = hops
    seen = {}

    def view(request):
        seen["address"] = request.META["REMOTE_ADDR"]
        return HttpResponse()

    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    client_address_middleware(view)(RequestFactory().get("/", REMOTE_ADDR=ALB, headers=headers))
    return seen["address"]


class ClientEcho(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send_json({"client": self.scope["client"]})


def websocket_stack():
    """The socket stack of stockchat.asgi around a consumer that reports the scope's client."""
    return ClientAddressMiddleware(
        SiteOriginValidator(AuthMiddlewareStack(URLRouter([path("ws/", ClientEcho.as_asgi())])))
    )


async def websocket_client(hops: int, headers: list[tuple[bytes, bytes]], settings) -> list:
    settings.STOCKCHAT_TRUSTED_PROXY_HOPS = hops
    communicator = WebsocketCommunicator(
        websocket_stack(), "/ws/", headers=[(b"host", b"testserver"), (b"origin", b"http://testserver"), *headers]
    )
    communicator.scope["client"] = [ALB, 53122]
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    message = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    return message["client"]


@pytest.mark.parametrize(("hops", "forwarded_for", "expected"), CASES)
def test_http_requests_get_the_address_the_outermost_proxy_saw(settings, hops, forwarded_for, expected):
    assert http_address(hops, forwarded_for, settings) == expected


@pytest.mark.parametrize(("hops", "forwarded_for", "expected"), CASES)
@pytest.mark.django_db
async def test_websockets_get_the_same_address_as_http(settings, hops, forwarded_for, expected):
    headers = [(b"x-forwarded-for", forwarded_for.encode())] if forwarded_for is not None else []
    host, _ = await websocket_client(hops, headers, settings)
    assert host == expected


@pytest.mark.django_db
async def test_repeated_forwarded_for_headers_are_read_as_one_list(settings):
    # A client's own header line comes first; the ALB's entry is still the last one.
    headers = [(b"x-forwarded-for", b"6.6.6.6"), (b"X-Forwarded-For", b"7.7.7.7, 203.0.113.9")]
    assert await websocket_client(1, headers, settings) == ["203.0.113.9", 0]


@pytest.mark.django_db
async def test_a_socket_without_the_header_keeps_its_peer_and_port(settings):
    assert await websocket_client(1, [], settings) == [ALB, 53122]


def test_the_http_middleware_runs_first(settings):
    assert settings.MIDDLEWARE[0] == "stockchat.deploy.client_address.client_address_middleware"
