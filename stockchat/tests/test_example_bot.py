"""examples/trading_bot.py against the real thing: daphne, the feed worker, PostgreSQL and Redis.

The bot signs in with a personal token only (no cookie, no Origin) and trades for a few seconds.
Then its server goes away; meanwhile its resting orders are cancelled by hand (as on the site),
so the socket frames saying so reach nobody. daphne comes back on the same port, and the bot must
learn of those cancels from the REST API when it reconnects. At the end, its account of orders,
fills and position is checked against the books.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from decimal import Decimal

import pytest
import websockets

from accounts import services as accounts
from conftest import session_cookie_for
from core.errors import ServiceError
from testsupport.processes import ROOT, AppProcess, app_environment, start_daphne, start_feed_worker
from testsupport.socket_contract import contract
from testsupport.waiting import wait_until
from trading import services as trading
from trading.books import books_violations
from trading.models import Fill, Order, Position
from trading.tests.conftest import new_stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BOT = ROOT / "examples" / "trading_bot.py"
PREFIX = "bot-e2e"


async def origins_under_daphne(port: int, cookie: str) -> None:
    """The exact Origin check on the real server: the same host on another port is another origin."""
    url = f"ws://127.0.0.1:{port}/ws/"
    for origin in (f"http://127.0.0.1:{port + 1}", f"https://127.0.0.1:{port}", "http://localhost:1"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(url, origin=origin, additional_headers={"Cookie": cookie}, open_timeout=10)
        assert refused.value.response.status_code == 403
    async with websockets.connect(
        url, origin=f"http://127.0.0.1:{port}", additional_headers={"Cookie": cookie}, open_timeout=10
    ) as socket:
        contract().check_server_frame(await socket.recv())  # hello
    # No credentials at all: accepted, then an error frame and 4401, so a client can tell.
    async with websockets.connect(url, open_timeout=10) as socket:
        await socket.send(json.dumps({"type": "ping"}))
        assert contract().check_server_frame(await socket.recv())["code"] == "not_authenticated"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
        assert closed.value.rcvd.code == 4401


def bot_orders_resting(alice) -> list[Order]:
    return list(Order.objects.filter(account__user=alice, status="new", client_order_id__startswith=PREFIX))


def cancel_by_hand(alice) -> dict[str, int]:
    """Cancel the bot's resting orders as the person would on the site; client_order_id -> id."""
    cancelled = {}
    for order in bot_orders_resting(alice):
        try:
            trading.order_cancel(user=alice, order_id=order.pk, reason="By hand.")
        except ServiceError:
            continue  # filled by the feed meanwhile
        cancelled[order.client_order_id] = order.pk
    return cancelled


def output_after(bot: AppProcess, marker: str, count: int) -> str:
    """What the bot printed after the ``count``-th line containing ``marker`` ("" before it)."""
    parts = bot.output().split(marker)
    return marker.join(parts[count:]) if len(parts) > count else ""


def test_the_sample_bot_trades_with_a_token_survives_a_restart_and_agrees_with_the_books(make_user, redis_url):
    alice = make_user("alice")
    trading.account_open(user=alice)
    new_stock("ACME", price="100.00")
    _, token = accounts.api_token_create(user=alice, name="bot")
    web_env = app_environment(REDIS_URL=redis_url, STOCKCHAT_MARKET_FEED="off")
    bot_env = {**os.environ, "STOCKCHAT_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    processes: list[AppProcess] = []
    try:
        daphne, port = start_daphne(web_env)
        processes.append(daphne)
        asyncio.run(origins_under_daphne(port, session_cookie_for(alice)))
        processes.append(start_feed_worker(app_environment(REDIS_URL=redis_url), "--interval", "0.2", "--seed", "4"))
        arguments = ["--url", f"http://127.0.0.1:{port}", "--prefix", PREFIX, "--reprice-seconds", "1"]
        bot = AppProcess([sys.executable, str(BOT), *arguments], bot_env, name="bot")
        processes.append(bot)
        wait_until(
            lambda: "fill #" in bot.output() and "cancelling" in bot.output() and bot_orders_resting(alice),
            what="the bot placing, filling and cancelling orders, with one resting",
            timeout=90,
            process=bot.process,
            log=bot.log,
        )

        # The server goes away; what happens to the books meanwhile is told to no socket.
        daphne.stop()
        processes.remove(daphne)
        cancelled_by_hand = cancel_by_hand(alice)
        assert cancelled_by_hand  # the bot places a new order before cancelling the old: one always rests
        wait_until(lambda: "reconnecting" in bot.output(), what="the bot noticing", timeout=60, log=bot.log)
        daphne, _ = start_daphne(web_env, port)
        processes.append(daphne)
        wait_until(
            lambda: (
                "resynced" in output_after(bot, "connected as alice", 2)
                and "placing" in output_after(bot, "connected as alice", 2)
            ),
            what="the bot trading again after the restart",
            timeout=90,
            process=bot.process,
            log=bot.log,
        )
        # It learnt of the cancels from the REST API, when it resynced after reconnecting.
        resync = output_after(bot, "connected as alice", 2).split("resynced", 1)[0]
        for client_order_id, order_id in cancelled_by_hand.items():
            assert f"order {client_order_id} (#{order_id}): canceled" in resync, bot.output()

        bot.process.send_signal(signal.SIGTERM)
        assert bot.process.wait(timeout=60) == 0, bot.output()
        output = bot.output()
    finally:
        for process in processes:
            process.stop()

    summary = json.loads(output.split("SUMMARY ", 1)[1].splitlines()[0])
    orders = {order.client_order_id: order for order in Order.objects.filter(account__user=alice)}
    # Every order on the account is one the bot placed and knows, once: no duplicate from a retry.
    assert set(orders) == set(summary["orders"])
    assert all(client_order_id.startswith(PREFIX + "-") for client_order_id in orders)
    for client_order_id, seen in summary["orders"].items():
        order = orders[client_order_id]
        assert (order.pk, order.status, order.filled_quantity) == (
            seen["id"],
            seen["status"],
            seen["filled_quantity"],
        ), client_order_id
    statuses = {order.status for order in orders.values()}
    assert {"filled", "canceled"} <= statuses
    assert "new" not in statuses  # it cancelled what still rested when it stopped
    # The fills it saw over the socket are the books' fills.
    fills = {fill.pk: fill for fill in Fill.objects.filter(account__user=alice)}
    assert summary["fills"]
    for fill in summary["fills"]:
        booked = fills[fill["id"]]
        assert (booked.order_id, booked.side, booked.quantity, booked.price) == (
            fill["order_id"],
            fill["side"],
            fill["quantity"],
            Decimal(fill["price"]),
        )
    position = Position.objects.filter(account__user=alice, stock__symbol="ACME").first()
    assert summary["position"] == (position.quantity if position else 0)
    assert books_violations() == []
