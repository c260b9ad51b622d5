"""The /ws/ socket through the real ASGI application (origin check, auth, framing)."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from stockchat.asgi import application
from stockchat.consumers import CLOSE_UNAUTHENTICATED, MAX_FRAME_BYTES

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def alice():
    return await database_sync_to_async(get_user_model().objects.create_user)("alice", password="correct-horse-9")


async def open_socket(headers):
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def test_signed_in_user_from_this_site_is_accepted(alice, ws_headers):
    communicator, connected, _ = await open_socket(await ws_headers(alice))
    assert connected
    assert await communicator.receive_json_from(timeout=5) == {"type": "hello", "v": 1, "user": "alice"}
    await communicator.disconnect()


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://testserver.evil.example", "null", "https://evil.example:443"]
)
async def test_socket_from_another_origin_is_refused(alice, ws_headers, origin):
    communicator, connected, _ = await open_socket(await ws_headers(alice, origin=origin))
    assert not connected
    await communicator.disconnect()


async def test_anonymous_socket_is_refused(ws_headers):
    communicator, connected, code = await open_socket(await ws_headers())
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED
    await communicator.disconnect()


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
