"""How the ASGI application is put together (stockchat/asgi.py)."""

from __future__ import annotations

from core.realtime.handshake import SiteOriginValidator
from stockchat.deploy.client_address import ClientAddressMiddleware


def test_the_app_reads_the_socket_address_before_the_origin_check():
    from stockchat.asgi import router

    websocket = router.application_mapping["websocket"]
    assert isinstance(websocket, ClientAddressMiddleware)
    assert isinstance(websocket.app, SiteOriginValidator)
