"""The chat page through a Redis restart under a stream of messages, in a real Chromium.

Redis restarts while Alice sends numbered messages: the web process loses its subscription, so
messages published before it subscribes again never reach Bob's page live. The first live
message after that reveals the hole. The page must keep that message, resume, and end up showing
every message exactly once and in order, without a reload (issue #14: a page that dropped the
revealing message never saw it, because the server does not send a message twice).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from websockets.sync.client import connect

from chat import services as chat_services
from chat.models import Message
from conftest import session_cookie_for
from stockchat.tests.browser import Site, open_page
from testsupport.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

STREAM = 120
RESTART_AFTER = 20


class Sender:
    """Alice's socket on the same server, sending numbered messages one after another."""

    def __init__(self, socket) -> None:
        self.socket = socket
        assert json.loads(self.socket.recv(timeout=10))["type"] == "hello"

    def send(self, conversation_id: int, number: int) -> None:
        frame = {
            "type": "chat.send",
            "conversation_id": conversation_id,
            "body": f"n{number}",
            "client_message_id": f"n{number}",
            "ref": number,
        }
        self.socket.send(json.dumps(frame))
        while True:
            reply = json.loads(self.socket.recv(timeout=20))
            if reply["type"] == "chat.sent" and reply["ref"] == number:
                return
            if reply["type"] == "error" and reply["code"] == "rate_limited" and reply.get("ref") == number:
                # Faster than the socket's frame budget (20 a second): back off as a client must,
                # then send it again with the same client_message_id, as the docs say.
                time.sleep(0.1)
                self.socket.send(json.dumps(frame))
                continue
            assert reply["type"] != "error", reply


def shown_bodies(page) -> list[str]:
    return page.locator("#message-list .body").all_text_contents()


def test_a_page_shows_every_message_once_in_order_through_a_redis_restart(people, browser, redis_server, redis_url):
    alice, bob = people
    conversation = chat_services.direct_start(user=alice, other_username="bob")
    site = Site()
    site.env.update(REDIS_URL=redis_url, STOCKCHAT_CHAT_SENDS_PER_MINUTE="100000")
    with site.running(), open_page(browser, site, bob) as watched, contextlib.ExitStack() as stack:
        page = watched.page
        watched.open(f"{site.url}/chat/{conversation.pk}/")
        alice_socket = connect(
            f"ws://127.0.0.1:{site.port}/ws/",
            origin=site.url,
            additional_headers={"Cookie": session_cookie_for(alice)},
            open_timeout=10,
        )
        stack.enter_context(alice_socket)
        sender = Sender(alice_socket)
        restart = None
        for number in range(1, STREAM + 1):
            sender.send(conversation.pk, number)
            if number == RESTART_AFTER:
                page.wait_for_selector(f"#message-list .body:text-is('n{number}')")
                restart = threading.Thread(target=redis_server.restart)
                restart.start()
        restart.join()
        wait_until(redis_server.ping, what="redis-server back", timeout=20)

        # Until the server follows the conversation again, messages reach the page only through
        # a resume; keep sending until one arrives live (or through the resume it starts).
        number = STREAM
        for _ in range(120):
            number += 1
            sender.send(conversation.pk, number)
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_selector(f"#message-list .body:text-is('n{number}')", timeout=1000)
                break
        else:
            raise AssertionError("live delivery did not come back after the Redis restart")
        stack.close()

        stored = Message.objects.filter(conversation=conversation).order_by("seq")
        expected = list(stored.values_list("body", flat=True))
        assert expected == [f"n{n}" for n in range(1, number + 1)]
        shown = shown_bodies(page)
        missing = sorted(set(expected) - set(shown), key=lambda body: int(body[1:]))
        assert missing == [], f"{len(missing)} of {len(expected)} messages never shown: {missing}"
        assert shown == expected
