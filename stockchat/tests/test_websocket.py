"""The /ws/ socket through the real ASGI application (origin check, auth, framing)."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model

from core.realtime import socket as socket_module
from core.realtime.groups import session_group, user_group
from core.realtime.hub import get_hub, hub_control, hub_event
from core.realtime.socket import CLOSE_UNAUTHENTICATED, MAX_FRAME_BYTES, BaseSocketConsumer
from stockchat.asgi import application
from testsupport.socket_contract import ContractCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

# Frames as the trading app sends them to a user's group (docs/asyncapi.yaml).
ACCOUNT_FRAME = {
    "type": "account.updated",
    "v": 1,
    "account": {"cash": "7.00", "reserved": "0.00", "buying_power": "7.00"},
}
LEFT_FRAME = {"type": "chat.conversation.removed", "v": 1, "conversation_id": 9, "reason": "removed"}


@pytest.fixture
async def alice():
    return await database_sync_to_async(get_user_model().objects.create_user)("alice", password="correct-horse-9")


@database_sync_to_async
def session_key(user) -> str:
    from django.contrib.sessions.models import Session

    return next(s.session_key for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk))


async def open_socket(headers):
    communicator = ContractCommunicator(application, "/ws/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def test_signed_in_user_from_this_site_is_accepted(alice, ws_headers):
    communicator, connected, _ = await open_socket(await ws_headers(alice))
    assert connected
    assert await communicator.receive_json_from(timeout=5) == {"type": "hello", "v": 1, "user": "alice"}
    await communicator.disconnect()


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://testserver.evil.example",
        "null",
        "https://evil.example:443",
        # The same host on another port or scheme is another origin (though the same "site",
        # so the browser sends the cookie along).
        "http://testserver:1",
        "http://testserver:8000",
        "https://testserver",
        "ws://testserver",
        "http://sub.testserver",
        "http://testserver/",
        "http://testserver, http://testserver",
    ],
)
async def test_socket_from_another_origin_is_refused(alice, ws_headers, origin):
    communicator, connected, _ = await open_socket(await ws_headers(alice, origin=origin))
    assert not connected  # closed before accept: the server answers the handshake with 403
    await communicator.disconnect()


def replaced(headers: list[tuple[bytes, bytes]], **values: str) -> list[tuple[bytes, bytes]]:
    """``headers`` with the named ones replaced (or added); a value of "" drops the header."""
    names = {name.replace("_", "-").encode() for name in values}
    kept = [(key, value) for key, value in headers if key not in names]
    return kept + [(name.replace("_", "-").encode(), v.encode()) for name, v in values.items() if v]


async def test_the_sites_own_origin_is_compared_with_host_and_port(alice, ws_headers):
    on_port = replaced(await ws_headers(alice), host="testserver:8443")
    _, connected, _ = await open_socket(replaced(on_port, origin="http://testserver"))
    assert not connected
    accepted, connected, _ = await open_socket(replaced(on_port, origin="http://testserver:8443"))
    assert connected
    await accepted.disconnect()


async def test_behind_a_tls_proxy_the_origin_is_https(alice, ws_headers, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    signed_in = await ws_headers(alice)
    accepted, connected, _ = await open_socket(
        replaced(signed_in, origin="https://testserver", x_forwarded_proto="https")
    )
    assert connected
    await accepted.disconnect()
    for headers in (
        replaced(signed_in, origin="http://testserver", x_forwarded_proto="https"),
        replaced(signed_in, origin="https://testserver"),
    ):
        _, connected, _ = await open_socket(headers)
        assert not connected


async def test_trusted_origins_are_accepted_exactly_or_by_subdomain_pattern(alice, ws_headers, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com", "https://*.trading.example.com"]
    signed_in = await ws_headers(alice)
    for origin, expected in [
        ("https://app.example.com", True),
        ("https://desk.trading.example.com", True),
        ("http://app.example.com", False),
        ("https://app.example.com:8443", False),
        ("http://desk.trading.example.com", False),
        ("https://trading.example.com.evil.example", False),
    ]:
        communicator, connected, _ = await open_socket(replaced(signed_in, origin=origin))
        assert connected is expected, origin
        await communicator.disconnect()


async def test_a_session_cookie_without_an_origin_is_refused_at_the_handshake(alice, ws_headers):
    _, connected, _ = await open_socket(replaced(await ws_headers(alice), origin=""))
    assert not connected


async def test_a_browser_behind_http_basic_auth_still_signs_in_with_its_session(alice, ws_headers):
    # Browsers send Basic credentials along by themselves to a site behind HTTP authentication.
    headers = replaced(await ws_headers(alice), authorization="Basic c3RhZ2luZzpzZWNyZXQ=")
    communicator, connected, _ = await open_socket(headers)
    assert connected
    assert await communicator.receive_json_from(timeout=5) == {"type": "hello", "v": 1, "user": "alice"}
    await communicator.disconnect()


async def test_a_session_that_is_not_signed_in_is_closed_with_4401(ws_headers):
    communicator, connected, _ = await open_socket(replaced(await ws_headers(), cookie="sessionid=not-a-session"))
    assert connected  # accepted, so that the client can tell this from a refused origin
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "error",
        "code": "not_authenticated",
        "detail": "The session is not signed in.",
    }
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_a_socket_without_credentials_is_closed_with_4401_when_no_auth_frame_comes(ws_headers, monkeypatch):
    monkeypatch.setattr(socket_module, "AUTH_FRAME_SECONDS", 0.05)
    communicator, connected, _ = await open_socket(await ws_headers())
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["code"] == "not_authenticated"
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "malformed"),
        ("[1, 2]", "malformed"),
        ('{"no": "type"}', "malformed"),
        ('{"type": 7}', "malformed"),
        ('{"type": "launch.missiles", "ref": "r1"}', "unknown_type"),
        ("x" * (MAX_FRAME_BYTES + 1), "too_large"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_up(alice, ws_headers, frame, code):
    communicator, connected, _ = await open_socket(await ws_headers(alice))
    assert connected
    await communicator.receive_json_from(timeout=5)  # hello
    await communicator.send_to(text_data=frame)
    error = await communicator.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["detail"]
    # Still usable afterwards.
    await communicator.send_to(text_data=json.dumps({"type": "ping", "ref": 42}))
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong", "ref": 42}
    await communicator.disconnect()


async def test_binary_frames_are_refused_with_an_error(alice, ws_headers):
    communicator, _, _ = await open_socket(await ws_headers(alice))
    await communicator.receive_json_from(timeout=5)
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await communicator.receive_json_from(timeout=5))["code"] == "binary_not_supported"
    await communicator.disconnect()


async def test_events_for_the_user_reach_every_socket_of_that_user_only(alice, ws_headers):
    bob = await database_sync_to_async(get_user_model().objects.create_user)("bob", password="correct-horse-9")
    tab_one, _, _ = await open_socket(await ws_headers(alice))
    tab_two, _, _ = await open_socket(await ws_headers(alice))
    other, _, _ = await open_socket(await ws_headers(bob))
    for communicator in (tab_one, tab_two, other):
        await communicator.receive_json_from(timeout=5)  # hello

    await get_channel_layer().group_send(user_group(alice.pk), hub_event(user_group(alice.pk), ACCOUNT_FRAME))
    for communicator in (tab_one, tab_two):
        assert await communicator.receive_json_from(timeout=5) == ACCOUNT_FRAME
    assert await other.receive_nothing(timeout=0.2)
    for communicator in (tab_one, tab_two, other):
        await communicator.disconnect()


async def test_close_command_closes_the_users_open_sockets(alice, ws_headers):
    communicator, _, _ = await open_socket(await ws_headers(alice))
    await communicator.receive_json_from(timeout=5)
    await get_channel_layer().group_send(
        user_group(alice.pk), hub_control(user_group(alice.pk), {"action": "close", "code": CLOSE_UNAUTHENTICATED})
    )
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_leave_command_stops_a_group_on_open_sockets(alice, ws_headers):
    communicator, _, _ = await open_socket(await ws_headers(alice))
    await communicator.receive_json_from(timeout=5)
    layer = get_channel_layer()
    group = user_group(alice.pk)
    await layer.group_send(group, hub_control(group, {"action": "leave", "group": group, "frame": LEFT_FRAME}))
    assert await communicator.receive_json_from(timeout=5) == LEFT_FRAME
    await layer.group_send(group, hub_event(group, ACCOUNT_FRAME))
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_a_flood_of_frames_is_refused_with_an_error_not_dropped_silently(alice, ws_headers, monkeypatch):
    monkeypatch.setattr(socket_module, "FRAME_BURST", 3)
    monkeypatch.setattr(socket_module, "FRAME_RATE_PER_SECOND", 0.001)
    communicator, _, _ = await open_socket(await ws_headers(alice))
    await communicator.receive_json_from(timeout=5)
    for n in range(5):
        await communicator.send_json_to({"type": "ping", "ref": n})
    replies = [await communicator.receive_json_from(timeout=5) for _ in range(5)]
    assert [reply["type"] for reply in replies] == ["pong", "pong", "pong", "error", "error"]
    assert replies[3] == {
        "type": "error",
        "code": "rate_limited",
        "detail": "Too many frames; slow down and send this one again.",
        "ref": 3,
    }
    await communicator.disconnect()


async def test_a_frame_handler_that_raises_answers_internal_error_and_the_socket_carries_on(
    alice, ws_headers, monkeypatch
):
    real_ping = BaseSocketConsumer.handle_ping

    async def ping_that_breaks(consumer, frame):
        if frame.get("ref") == "boom":
            raise ValueError("a bug in a handler")
        await real_ping(consumer, frame)

    monkeypatch.setattr(BaseSocketConsumer, "handle_ping", ping_that_breaks)
    communicator, _, _ = await open_socket(await ws_headers(alice))
    await communicator.receive_json_from(timeout=5)
    await communicator.send_json_to({"type": "ping", "ref": "boom"})
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "error",
        "code": "internal_error",
        "detail": "The server could not carry out this frame.",
        "ref": "boom",
    }
    await communicator.send_json_to({"type": "ping", "ref": 1})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong", "ref": 1}
    assert get_hub().group_sizes() == {user_group(alice.pk): 1, session_group(await session_key(alice)): 1}
    await communicator.disconnect()
    assert get_hub().group_sizes() == {}


async def test_a_consumer_that_fails_outside_its_handlers_still_leaves_the_hub(alice, ws_headers, monkeypatch):
    # What a frame that raised used to do: the server closes the socket (1011) without its
    # disconnect handler; the socket's groups must go all the same.
    async def broken_receive(consumer, text_data=None, bytes_data=None):
        raise RuntimeError("the consumer itself fails")

    monkeypatch.setattr(BaseSocketConsumer, "receive", broken_receive)
    communicator, _, _ = await open_socket(await ws_headers(alice))
    await communicator.receive_json_from(timeout=5)
    assert len(get_hub().group_sizes()) == 2
    await communicator.send_json_to({"type": "ping"})
    with pytest.raises(RuntimeError, match="the consumer itself fails"):
        await communicator.receive_output(timeout=5)
    assert get_hub().group_sizes() == {}
