"""Chaos under load: Redis restarts and PostgreSQL goes down while two web processes serve.

Two daphne processes share PostgreSQL and Redis (channel layer and cache), as two web tasks do in
production. While they serve:

- Alice posts a stream of chat messages to Bob through process 1 (REST, with an API token), each
  retried with the same ``client_message_id`` until the server confirms it;
- Bob follows the conversation on a socket to process 2 with a client that does what the page's
  client does (static/js/socket.js, static/js/chat.js; docs/websocket.md): it reconnects (at once
  on 1012, else with backoff), resumes after every reconnect from the last message it has in
  sequence, keeps a message that reveals a gap while it resumes, and asks again while the server
  says more follow;
- Alice (through process 1) and Bob (through process 2) place a stream of orders, each retried with
  the same ``client_order_id`` until the server confirms it.

Meanwhile Redis restarts once (losing every subscription and the cache), PostgreSQL stops for a
few seconds and starts again, and process 2 is replaced as in a deploy (SIGTERM, which must stop it
by itself, then a new process on its port). At the end Bob's client has every message exactly once
and in order, as the database has them; no ``client_order_id`` was placed twice; the books balance;
and every refusal the writers got while a server was down was a 503 with a JSON body, never a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets
from django.db import connections
from django.utils import timezone

from accounts.services import api_token_create
from chat import services as chat_services
from chat.models import Message
from conftest import session_cookie_for
from core.realtime.socket import CLOSE_SERVICE_RESTART
from testsupport.processes import app_environment, start_daphne
from testsupport.waiting import wait_until_async
from trading.books import books_violations
from trading.models import Order
from trading.tests.conftest import new_stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Messages posted (and seen live by Bob) before the first outage, between the two, and after.
MESSAGES_BETWEEN_EVENTS = 8
# How long PostgreSQL stays down: long enough for requests and socket frames to hit the outage.
POSTGRES_DOWN_SECONDS = 3.0
# A writer's pause before sending a refused request again (the server asks for Retry-After: 5;
# a test client does not wait that long).
RETRY_PAUSE_SECONDS = 0.2
# The page's backoff (socket.js), shortened so the test stays short.
BACKOFF_START_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 2.0
PHASE_TIMEOUT_SECONDS = 30.0


def http_request(port: int, method: str, path: str, token: str, body: dict) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Host": "127.0.0.1"}
        conn.request(method, path, body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@dataclass
class Writer:
    """Sends numbered requests one after another, each until the server confirms it."""

    port: int
    token: str
    confirmed: list[dict] = field(default_factory=list)
    refusals: Counter = field(default_factory=Counter)
    bad_refusals: list[str] = field(default_factory=list)

    async def send(self, path: str, body: dict) -> dict:
        while True:
            try:
                status, text = await asyncio.to_thread(http_request, self.port, "POST", path, self.token, body)
            except OSError as exc:
                self.refusals[type(exc).__name__] += 1
            else:
                if status in (200, 201):
                    result = json.loads(text)
                    self.confirmed.append(result)
                    return result
                self.refusals[status] += 1
                if status != 503 or json.loads(text).get("code") not in ("busy", "unavailable"):
                    self.bad_refusals.append(f"{status} {text[:300]}")
                    if status < 500:
                        raise AssertionError(f"POST {path} {body} was refused for good: {status} {text}")
            await asyncio.sleep(RETRY_PAUSE_SECONDS)


async def post_messages(writer: Writer, conversation_id: int, stop: asyncio.Event) -> None:
    for number in itertools.count(1):
        if stop.is_set():
            return
        body = {"body": f"message {number}", "client_message_id": f"m{number}"}
        await writer.send(f"/api/v1/conversations/{conversation_id}/messages", body)


def order_request(prefix: str, number: int) -> dict:
    """A market buy, a market sell of what it bought, and a limit buy that rests (and reserves cash)."""
    request = {"symbol": "ACME", "quantity": 1, "client_order_id": f"{prefix}-{number}"}
    kind = number % 3
    if kind == 1:
        return {**request, "side": "buy", "type": "market"}
    if kind == 2:
        return {**request, "side": "sell", "type": "market"}
    return {**request, "side": "buy", "type": "limit", "limit_price": "50.00", "time_in_force": "gtc"}


async def place_orders(writer: Writer, prefix: str, stop: asyncio.Event) -> None:
    for number in itertools.count(1):
        if stop.is_set():
            return
        await writer.send("/api/v1/orders", order_request(prefix, number))


class Follower:
    """Bob's page, as far as one conversation goes: socket.js's reconnects and chat.js's sequence."""

    def __init__(self, port: int, cookie: str, conversation_id: int) -> None:
        self.url = f"ws://127.0.0.1:{port}/ws/"
        self.origin = f"http://127.0.0.1:{port}"
        self.cookie = cookie
        self.conversation_id = conversation_id
        # What the page shows, in order; the last message held in sequence; messages ahead of a gap.
        self.shown: list[dict] = []
        self.known: set[int] = set()
        self.last_seq = 0
        self.last_id = 0
        self.held: dict[int, dict] = {}
        self.resuming = False
        self.socket: Any = None
        self.refs = itertools.count(1)
        self.resume_ref: int | None = None
        self.close_codes: list[int | None] = []
        self.connections = 0
        self.resumes = 0
        self.progress = asyncio.Event()

    async def run(self) -> None:
        attempts = 0
        while True:
            try:
                self.socket = await websockets.connect(
                    self.url, origin=self.origin, additional_headers={"Cookie": self.cookie}, open_timeout=10
                )
            except (OSError, TimeoutError, websockets.InvalidHandshake):
                # The server is down, or refused the handshake (it could not read the session).
                await asyncio.sleep(min(BACKOFF_MAX_SECONDS, BACKOFF_START_SECONDS * 2**attempts))
                attempts += 1
                continue
            self.connections += 1
            ready = False
            try:
                async for text in self.socket:
                    frame = json.loads(text)
                    if frame["type"] == "hello":
                        ready, attempts = True, 0
                        self.resuming = False
                        await self.resume()
                    else:
                        await self.receive(frame)
            except websockets.ConnectionClosed:
                pass
            received = self.socket.protocol.close_exc.rcvd
            code = received.code if received is not None else None
            self.close_codes.append(code)
            if code == CLOSE_SERVICE_RESTART and ready:
                attempts = 0
                continue
            await asyncio.sleep(min(BACKOFF_MAX_SECONDS, BACKOFF_START_SECONDS * 2**attempts))
            attempts += 1

    async def resume(self) -> None:
        self.resuming = True
        self.resumes += 1
        self.resume_ref = next(self.refs)
        frame = {"type": "chat.resume", "conversations": {str(self.conversation_id): self.last_id}}
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.socket.send(json.dumps({**frame, "ref": self.resume_ref}))

    async def receive(self, frame: dict) -> None:
        kind = frame["type"]
        if kind == "chat.message.created":
            await self.add(frame["message"])
        elif kind == "chat.resumed" and frame.get("ref") == self.resume_ref:
            self.resuming = False
            if self.more_follow(frame) or self.held:
                # A bounded page, or messages still held beyond a gap: ask for the rest.
                await self.resume()
        elif kind == "error" and frame.get("ref") == self.resume_ref:
            # Refused (rate limited, say): ask again a moment later, as the page would on its next event.
            self.resuming = False
            await asyncio.sleep(RETRY_PAUSE_SECONDS)
            await self.resume()

    def more_follow(self, frame: dict) -> bool:
        more = frame.get("more")
        if isinstance(more, list | dict):
            return self.conversation_id in more or str(self.conversation_id) in more
        return bool(more)

    async def add(self, message: dict) -> None:
        if message["conversation_id"] != self.conversation_id or message["id"] in self.known:
            return
        if message["seq"] > self.last_seq + 1:
            # A hole: keep this message, and have chat.resume bring what came before it.
            self.held[message["seq"]] = message
            if not self.resuming:
                await self.resume()
            return
        if message["seq"] <= self.last_seq:
            raise AssertionError(f"message {message} is behind the last one in sequence ({self.last_seq})")
        self.show(message)
        while self.last_seq + 1 in self.held:
            self.show(self.held.pop(self.last_seq + 1))

    def show(self, message: dict) -> None:
        self.held.pop(message["seq"], None)
        self.known.add(message["id"])
        self.shown.append(message)
        self.last_seq, self.last_id = message["seq"], message["id"]
        self.progress.set()

    async def wait_for_seq(self, seq: int, what: str) -> None:
        await wait_until_async(lambda: self.last_seq >= seq, what=what, timeout=PHASE_TIMEOUT_SECONDS)


def prepare(make_user) -> dict:
    alice, bob = make_user("alice"), make_user("bob")
    new_stock("ACME", price="100.00", at=timezone.now())
    conversation = chat_services.direct_start(user=alice, other_username="bob")
    return {
        "conversation_id": conversation.pk,
        "bob_cookie": session_cookie_for(bob),
        "alice_token": api_token_create(user=alice, name="chaos")[1],
        "bob_token": api_token_create(user=bob, name="chaos")[1],
    }


async def run_chaos(world: dict, redis_server, postgres_server, port_1: int, port_2: int, restart_web_2) -> dict:
    alice_chat = Writer(port_1, world["alice_token"])
    alice_orders = Writer(port_1, world["alice_token"])
    bob_orders = Writer(port_2, world["bob_token"])
    bob = Follower(port_2, world["bob_cookie"], world["conversation_id"])
    stop = asyncio.Event()
    follower = asyncio.create_task(bob.run())
    writers = [
        asyncio.create_task(post_messages(alice_chat, world["conversation_id"], stop)),
        asyncio.create_task(place_orders(alice_orders, "alice", stop)),
        asyncio.create_task(place_orders(bob_orders, "bob", stop)),
    ]
    timings: dict[str, float] = {}
    started = time.monotonic()

    async def posted_then_seen(count: int, what: str) -> None:
        # ``count`` more messages confirmed to Alice, and Bob's page has them all.
        target = len(alice_chat.confirmed) + count
        await wait_until_async(
            lambda: len(alice_chat.confirmed) >= target, what=f"{what}: posted", timeout=PHASE_TIMEOUT_SECONDS
        )
        await bob.wait_for_seq(alice_chat.confirmed[target - 1]["seq"], f"{what}: seen by Bob's page")

    try:
        await posted_then_seen(MESSAGES_BETWEEN_EVENTS, "before the outages")
        await asyncio.to_thread(redis_server.restart)
        timings["redis restarted at"] = time.monotonic() - started
        await posted_then_seen(MESSAGES_BETWEEN_EVENTS, "after the Redis restart")
        await asyncio.to_thread(postgres_server.pause)
        try:
            timings["postgresql stopped at"] = time.monotonic() - started
            await asyncio.sleep(POSTGRES_DOWN_SECONDS)  # the outage itself, not a wait for work
        finally:
            await asyncio.to_thread(postgres_server.resume)
        timings["postgresql started at"] = time.monotonic() - started
        await posted_then_seen(MESSAGES_BETWEEN_EVENTS, "after the PostgreSQL outage")
        # A deploy replaces process 2 under Bob's socket: it closes with 1012, and Bob's page is back
        # as soon as the new process listens.
        await asyncio.to_thread(restart_web_2)
        timings["process 2 restarted at"] = time.monotonic() - started
        await posted_then_seen(MESSAGES_BETWEEN_EVENTS, "after process 2 restarted")
        stop.set()
        async with asyncio.timeout(PHASE_TIMEOUT_SECONDS):
            await asyncio.gather(*writers)
        # The last confirmed message reaches the page too (live, or through a resume).
        await bob.wait_for_seq(alice_chat.confirmed[-1]["seq"], "the last message seen by Bob's page")
        timings["finished at"] = time.monotonic() - started
    finally:
        stop.set()
        for task in [*writers, follower]:
            task.cancel()
        await asyncio.gather(*writers, follower, return_exceptions=True)
        if bob.socket is not None:
            await bob.socket.close()
    return {"alice_chat": alice_chat, "orders": [alice_orders, bob_orders], "bob": bob, "timings": timings}


def test_no_message_lost_no_order_twice_and_books_balanced_through_redis_and_postgresql_outages(
    make_user, redis_server, redis_url, postgres_server
):
    world = prepare(make_user)
    env = app_environment(
        REDIS_URL=redis_url,
        STOCKCHAT_MARKET_FEED="off",
        STOCKCHAT_CHAT_SENDS_PER_MINUTE="100000",
        STOCKCHAT_ORDER_RATE="100000/minute",
        # A request waits at most 1 s for a database connection that is not coming.
        DATABASE_POOL_TIMEOUT="1",
    )
    processes = []
    logs: list[str] = []

    def restart_web_2() -> None:
        old = processes.pop()
        old.stop(keep_log=True)
        logs.append(old.output())
        old.log.unlink()
        # It stopped by itself (SIGTERM), in the middle of requests, rather than being killed.
        assert old.process.returncode == 0, logs[-1][-3000:]
        processes.append(start_daphne(env, port=port_2)[0])

    connections.close_all()
    try:
        (web_1, port_1), (web_2, port_2) = start_daphne(env), start_daphne(env)
        processes += [web_1, web_2]
        result = asyncio.run(run_chaos(world, redis_server, postgres_server, port_1, port_2, restart_web_2))
    finally:
        logs.extend(process.output() for process in processes)
        for process in processes:
            process.stop()
        # This process's own connections died with the PostgreSQL restart.
        connections.close_all()

    bob: Follower = result["bob"]
    alice_chat: Writer = result["alice_chat"]
    in_database = list(
        Message.objects.filter(conversation_id=world["conversation_id"]).order_by("seq").values("id", "seq")
    )
    # Every message once, in order: the page shows exactly what the database holds.
    assert [m["id"] for m in bob.shown] == [m["id"] for m in in_database]
    assert [m["seq"] for m in in_database] == list(range(1, len(in_database) + 1))
    # Each message Alice posted was saved once, however often she had to send it.
    confirmed_ids = [m["id"] for m in alice_chat.confirmed]
    assert sorted(set(confirmed_ids)) == [m["id"] for m in in_database]
    client_ids = Counter(
        Message.objects.filter(conversation_id=world["conversation_id"]).values_list("client_message_id", flat=True)
    )
    assert max(client_ids.values()) == 1

    # No order placed twice for one client_order_id, and every confirmed one is there.
    order_writers: list[Writer] = result["orders"]
    sent_ids = {order["client_order_id"] for writer in order_writers for order in writer.confirmed}
    placed = Counter(Order.objects.values_list("account", "client_order_id"))
    assert max(placed.values()) == 1
    assert {client_order_id for _, client_order_id in placed} == sent_ids
    assert books_violations() == []

    # While a server was down the writers were refused with 503 JSON (or could not connect), never a 500.
    refusals = alice_chat.refusals + order_writers[0].refusals + order_writers[1].refusals
    bad = alice_chat.bad_refusals + order_writers[0].bad_refusals + order_writers[1].bad_refusals
    # Process 2 closed Bob's socket for its restart with 1012, and the page came back.
    assert CLOSE_SERVICE_RESTART in bob.close_codes
    if bad:
        errors = "\n".join(line for line in "".join(logs).splitlines() if '"level": "ERROR"' in line)
        pytest.fail(f"refusals other than 503 JSON: {bad}\nerrors the web processes logged:\n{errors}")
    print(
        f"\nchaos: {len(in_database)} messages, {len(sent_ids)} orders, refusals {dict(refusals)}, "
        f"Bob's socket: {bob.connections} connections, closes {bob.close_codes}, {bob.resumes} resumes, "
        f"{result['timings']}"
    )
