"""End to end on real servers: two daphne processes, the feed worker, Redis and PostgreSQL.

A client of each daphne subscribes to a stock over /ws/; the worker's ticks reach
both through Redis; an order placed through the HTTP API on one daphne shows up,
with its fill, on the user's sockets on both.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.request
from decimal import Decimal

import pytest
import websockets
from channels.db import database_sync_to_async

from conftest import session_cookie_for
from testsupport.processes import app_environment, start_daphne, start_feed_worker
from trading import services
from trading.tests.conftest import new_stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def prepare(make_user) -> str:
    alice = make_user("alice")
    services.account_open(user=alice)
    new_stock("ACME", price="100.00")
    return session_cookie_for(alice)


async def next_frame(socket, wanted: str) -> dict:
    async with asyncio.timeout(20):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == wanted:
                return frame


def place_order(port: int, cookie: str) -> dict:
    base = f"http://127.0.0.1:{port}"
    # Double-submit CSRF as a script does: the same secret in the cookie and the header.
    csrf = secrets.token_hex(16)
    request = urllib.request.Request(  # noqa: S310 - a fixed http URL
        f"{base}/api/v1/orders",
        data=json.dumps({"symbol": "ACME", "side": "buy", "quantity": 2, "type": "market"}).encode(),
        headers={
            "Content-Type": "application/json",
            "Cookie": f"{cookie}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Origin": base,
            "Referer": f"{base}/",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a fixed http URL
        assert response.status == 201
        return json.loads(response.read())


async def test_ticks_and_own_fills_reach_clients_on_two_daphne_processes(make_user, redis_url):
    cookie = await prepare(make_user)
    web_env = app_environment(REDIS_URL=redis_url, STOCKCHAT_MARKET_FEED="off")
    processes = []
    try:
        (daphne_a, port_a), (daphne_b, port_b) = start_daphne(web_env), start_daphne(web_env)
        processes += [daphne_a, daphne_b]
        sockets = []
        for port in (port_a, port_b):
            socket = await websockets.connect(
                f"ws://127.0.0.1:{port}/ws/",
                origin=f"http://127.0.0.1:{port}",
                additional_headers={"Cookie": cookie},
                open_timeout=10,
            )
            sockets.append(socket)
            assert (await next_frame(socket, "hello"))["user"] == "alice"
            await socket.send(json.dumps({"type": "prices.subscribe", "symbols": ["ACME"]}))
            await next_frame(socket, "prices.subscribed")
            snapshot = await next_frame(socket, "quote.updated")
            assert Decimal(snapshot["quote"]["price"]) == Decimal("100.00")

        processes.append(start_feed_worker(app_environment(REDIS_URL=redis_url), "--interval", "0.2", "--seed", "4"))
        ticks = [await next_frame(socket, "quote.updated") for socket in sockets]
        # The same tick, published once by the worker, reached a client of each process.
        seen_a = {ticks[0]["quote"]["at"]}
        for _ in range(20):
            if ticks[1]["quote"]["at"] in seen_a:
                break
            frame_a, frame_b = await asyncio.gather(*(next_frame(s, "quote.updated") for s in sockets))
            seen_a.add(frame_a["quote"]["at"])
            ticks[1] = frame_b
        assert ticks[1]["quote"]["at"] in seen_a

        order = await asyncio.to_thread(place_order, port_a, cookie)
        for socket in sockets:
            fill = await next_frame(socket, "fill.created")
            assert fill["fill"]["order_id"] == order["id"]
            assert fill["fill"]["quantity"] == 2
        for socket in sockets:
            await socket.close()
    finally:
        for process in processes:
            process.stop()
