"""The real app under uvicorn, the other supported server, on PostgreSQL and Redis.

One uvicorn process started as the Docker entrypoint starts it (``STOCKCHAT_WEB_SERVER=uvicorn``,
less the bind address): a signed-in page, the health check, signed-in sockets greeted with
``hello``, a socket from another site refused, and a chat message from one socket to another.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest
import websockets
from channels.db import database_sync_to_async

from chat import services
from conftest import session_cookie_for
from testsupport.processes import app_environment, start_uvicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def prepare(make_user) -> tuple[int, str, str]:
    alice, bob = make_user("alice"), make_user("bob")
    direct = services.direct_start(user=alice, other_username="bob")
    return direct.pk, session_cookie_for(alice), session_cookie_for(bob)


def get(port: int, path: str, cookie: str | None = None) -> tuple[int, dict[str, str], str]:
    headers = {"Cookie": cookie} if cookie else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a fixed http URL
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()


async def next_frame(socket, wanted: str) -> dict:
    async with asyncio.timeout(20):
        while True:
            frame = json.loads(await socket.recv())
            assert frame["type"] != "error", frame
            if frame["type"] == wanted:
                return frame


async def open_socket(port: int, cookie: str, origin: str | None = None):
    return await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/",
        origin=origin or f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": cookie},
        open_timeout=10,
    )


async def test_pages_health_and_chat_over_websockets_under_uvicorn(make_user, redis_url):
    conversation_id, alice_cookie, bob_cookie = await prepare(make_user)
    # DEBUG on, as `make run` serves it: WhiteNoise then serves static files from the source tree.
    env = app_environment(REDIS_URL=redis_url, STOCKCHAT_MARKET_FEED="off", DJANGO_DEBUG="true")
    uvicorn, port = start_uvicorn(env)
    try:
        status, headers, body = await asyncio.to_thread(get, port, "/", alice_cookie)
        assert status == 200
        assert headers["server"] == "uvicorn"
        assert "alice" in body
        status, _, body = await asyncio.to_thread(get, port, "/healthz")
        assert status == 200
        assert json.loads(body)["status"] == "ok"
        status, _, body = await asyncio.to_thread(get, port, "/readyz")
        assert status == 200
        assert json.loads(body)["checks"]["channel_layer"] == {"ok": True}

        # A page on another site, or on another port or scheme of this host, cannot open a
        # socket with the visitor's cookies.
        for origin in ("http://evil.example", f"http://127.0.0.1:{port + 1}", f"https://127.0.0.1:{port}"):
            with pytest.raises(websockets.InvalidStatus) as refused:
                await open_socket(port, alice_cookie, origin=origin)
            assert refused.value.response.status_code == 403

        alice = await open_socket(port, alice_cookie)
        bob = await open_socket(port, bob_cookie)
        # The client offered permessage-deflate; the server declines it, as daphne does.
        assert alice.response.headers.get("Sec-WebSocket-Extensions") is None
        assert (await next_frame(alice, "hello"))["user"] == "alice"
        assert (await next_frame(bob, "hello"))["user"] == "bob"
        # Bob follows the conversation from the start, then Alice writes.
        await bob.send(json.dumps({"type": "chat.resume", "conversations": {str(conversation_id): 0}}))
        await next_frame(bob, "chat.resumed")
        await alice.send(
            json.dumps(
                {
                    "type": "chat.send",
                    "conversation_id": conversation_id,
                    "body": "hello from uvicorn",
                    "client_message_id": "u1",
                    "ref": 1,
                }
            )
        )
        assert (await next_frame(alice, "chat.sent"))["ref"] == 1
        message = (await next_frame(bob, "chat.message.created"))["message"]
        assert message["body"] == "hello from uvicorn"
        assert message["conversation_id"] == conversation_id
        await alice.close()
        await bob.close()
    finally:
        uvicorn.stop()
