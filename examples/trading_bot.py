#!/usr/bin/env python3
"""A sample stockchat trading bot: a personal API token, the REST API and the /ws/ socket.

On one stock, it
- opens a position with a market buy of one share,
- keeps a limit buy resting a little below the market and replaces it once it is a few seconds
  old (a new order first, then the old one cancelled: it is never out of the market), so that it
  follows the price; sells at market whatever it holds above a small maximum,
- follows the stock's quotes and its own orders and fills over the socket,
- after every (re)connect reads its orders and position from the REST API: frames sent while
  it was away are gone for good, the REST API has the books,
- on Ctrl-C (or after --seconds) cancels what is still resting and prints a summary.

Every order carries a client_order_id (``<prefix>-<n>``): the bot recognises its own orders by
it, and when the answer to a POST is lost, it asks the server whether the order was placed
before it places anything else.

    export STOCKCHAT_TOKEN=sct_...        # made on /accounts/tokens/
    python examples/trading_bot.py --url http://127.0.0.1:8000 --symbol ACME

It needs only `websockets` (pip install websockets); HTTP goes through the standard library.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

SPREAD = Decimal("0.002")  # the resting buy sits 0.2 % below the last price
MAX_POSITION = 3  # shares; more are sold at market
CENT = Decimal("0.01")
SIGNED_OUT = {4401, 4403}  # the token is unknown, expired or revoked: reconnecting will not help


class SignedOut(Exception):
    """The server refused the token: reconnecting will not help."""


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


class RestApi:
    """The REST API under /api/v1/ with the token; answers (status, JSON body)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base = base_url.rstrip("/") + "/api/v1/"
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def _call(self, method: str, path: str, body: dict | None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {**self.headers, **({"Content-Type": "application/json"} if data else {})}
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the URL the user gave)
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:  # 4xx/5xx: the server answered, with a JSON {code, detail}
            return error.code, json.loads(error.read() or b"null")

    async def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        # urllib blocks: run it beside the event loop so the socket keeps being read.
        return await asyncio.to_thread(self._call, method, path, body)


class Bot:
    def __init__(self, api: RestApi, symbol: str, prefix: str, reprice_seconds: float) -> None:
        self.api = api
        self.symbol = symbol.upper()
        self.prefix = prefix
        self.reprice_seconds = reprice_seconds
        self.orders: dict[str, dict] = {}  # client_order_id -> the order as the server last told it
        self.placed_at: dict[str, float] = {}
        self.fills: dict[int, dict] = {}  # fills seen over the socket, by id
        self.position = 0  # the books' figure at the last resync, plus fills seen since
        self.price: Decimal | None = None
        self.next_number = 1
        self.opened = False  # the opening market buy was sent
        self.stopping = False
        self.acting = asyncio.Lock()  # one trading decision at a time, and none under way at shutdown
        self.unsure = False  # an answer was lost: resync before acting again

    # --- state ---------------------------------------------------------------------------------

    def mine(self, order: dict) -> bool:
        return (order.get("client_order_id") or "").startswith(self.prefix + "-")

    def track(self, order: dict) -> None:
        if not self.mine(order):
            return  # orders the person placed by hand (or another bot) are none of this bot's business
        known = self.orders.get(order["client_order_id"])
        if known is not None and known["status"] != "new" and order["status"] == "new":
            return  # an older copy (a frame that crossed a REST answer): closed orders never reopen
        if known is None or known["status"] != order["status"]:
            log(f"order {order['client_order_id']} (#{order['id']}): {order['status']}")
        self.orders[order["client_order_id"]] = order

    def resting(self) -> list[dict]:
        return [order for order in self.orders.values() if order["status"] == "new"]

    async def resync(self) -> None:
        """Read this bot's orders and the position from the books (after a reconnect, or a lost answer)."""
        status, page = await self.api.call("GET", f"orders?status=all&symbol={self.symbol}&limit=500")
        if status != 200:
            raise RuntimeError(f"GET orders answered {status}: {page}")
        for order in page["results"]:
            self.track(order)
        status, position = await self.api.call("GET", f"positions/{self.symbol}")
        self.position = position["quantity"] if status == 200 else 0
        self.unsure = False
        log(f"resynced: position {self.position}, resting {[o['client_order_id'] for o in self.resting()]}")

    # --- orders --------------------------------------------------------------------------------

    async def place(self, side: str, kind: str, quantity: int, limit_price: Decimal | None = None) -> None:
        client_order_id = f"{self.prefix}-{self.next_number}"
        self.next_number += 1
        body = {"symbol": self.symbol, "side": side, "type": kind, "quantity": quantity}
        body["client_order_id"] = client_order_id
        if limit_price is not None:
            body["limit_price"] = str(limit_price)
        price = f" @ {limit_price}" if limit_price is not None else ""
        log(f"placing {client_order_id}: {side} {quantity} {self.symbol} {kind}{price}")
        self.placed_at[client_order_id] = time.monotonic()
        try:
            status, answer = await self.api.call("POST", "orders", body)
        except OSError as exc:
            # Placed or not? The resync lists orders by client_order_id, so it will tell.
            log(f"no answer for {client_order_id} ({exc}); will resync")
            self.unsure = True
            return
        if status == 201:
            self.track(answer)
        else:
            log(f"refused {client_order_id}: {answer.get('code')} ({answer.get('detail')})")

    async def cancel(self, order: dict) -> None:
        log(f"cancelling {order['client_order_id']} (#{order['id']})")
        status, answer = await self.api.call("DELETE", f"orders/{order['id']}")
        if status == 200:
            self.track(answer)
        elif answer and answer.get("code") == "order_not_open":
            status, answer = await self.api.call("GET", f"orders/{order['id']}")  # it filled meanwhile
            if status == 200:
                self.track(answer)

    async def on_quote(self, price: Decimal) -> None:
        self.price = price
        if self.stopping:
            return
        async with self.acting:
            await self.trade(price)

    async def trade(self, price: Decimal) -> None:
        if self.unsure:
            await self.resync()
        if self.position == 0 and not self.opened:
            self.opened = True
            await self.place("buy", "market", 1)
        if self.position > MAX_POSITION:
            await self.place("sell", "market", self.position - MAX_POSITION)
        limits = [o for o in self.resting() if o["type"] == "limit"]
        stale = [
            o for o in limits if time.monotonic() - self.placed_at.get(o["client_order_id"], 0.0) > self.reprice_seconds
        ]
        if len(stale) == len(limits):  # none resting, or all too old: a new one at today's price first
            await self.place("buy", "limit", 1, (price * (1 - SPREAD)).quantize(CENT))
        for order in stale:
            await self.cancel(order)

    # --- frames --------------------------------------------------------------------------------

    async def on_frame(self, frame: dict) -> None:
        kind = frame["type"]
        if kind == "quote.updated" and frame["quote"]["symbol"] == self.symbol:
            await self.on_quote(Decimal(frame["quote"]["price"]))
        elif kind == "order.updated":
            self.track(frame["order"])
        elif kind == "fill.created" and frame["fill"]["symbol"] == self.symbol:
            fill = frame["fill"]
            if fill["id"] not in self.fills:
                self.fills[fill["id"]] = fill
                self.position += fill["quantity"] if fill["side"] == "buy" else -fill["quantity"]
                what = f"{fill['side']} {fill['quantity']} @ {fill['price']}"
                log(f"fill #{fill['id']} of order #{fill['order_id']}: {what}")
        elif kind == "error":
            log(f"the server refused a frame: {frame['code']} ({frame['detail']})")

    async def follow(self, socket_url: str, token: str) -> None:
        """Stay connected: sign in with the token, subscribe, resync, handle frames; reconnect on loss."""
        delay = 0.5
        while True:
            try:
                async with connect(
                    socket_url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10
                ) as socket:
                    hello = json.loads(await socket.recv())
                    if hello["type"] != "hello":
                        raise SignedOut(f"the server did not sign the socket in: {hello}")
                    log(f"connected as {hello['user']}")
                    await socket.send(json.dumps({"type": "prices.subscribe", "symbols": [self.symbol]}))
                    await self.resync()  # after subscribing, so nothing falls between the two
                    delay = 0.5
                    async for text in socket:
                        await self.on_frame(json.loads(text))
            except ConnectionClosed as closed:
                if closed.rcvd is not None and closed.rcvd.code in SIGNED_OUT:
                    raise SignedOut(f"the token was refused ({closed.rcvd.code}); make a new one") from None
                log(f"socket closed ({closed.rcvd.code if closed.rcvd else 'no close frame'})")
            except (OSError, InvalidStatus, TimeoutError, RuntimeError) as exc:
                log(f"cannot reach the server: {exc}")
            log(f"reconnecting in {delay:.1f} s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)

    async def shut_down(self) -> dict:
        """Cancel what still rests, read the books once more, and say where things stand."""
        self.stopping = True
        async with self.acting:  # an order being placed now is placed before the books are read
            return await self._tidy_up()

    async def _tidy_up(self) -> dict:
        try:
            await self.resync()
            for order in self.resting():
                await self.cancel(order)
            await self.resync()
        except (OSError, RuntimeError) as exc:
            log(f"could not tidy up: {exc}")
        return {
            "prefix": self.prefix,
            "position": self.position,
            "orders": {
                cid: {"id": o["id"], "status": o["status"], "filled_quantity": o["filled_quantity"]}
                for cid, o in sorted(self.orders.items())
            },
            "fills": sorted(self.fills.values(), key=lambda fill: fill["id"]),
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the site, e.g. https://stockchat.example.com")
    parser.add_argument("--symbol", default="ACME")
    parser.add_argument("--prefix", default=f"bot-{secrets.token_hex(3)}", help="client_order_id prefix of this run")
    parser.add_argument("--reprice-seconds", type=float, default=5.0, help="replace a resting buy this old")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long (default: at Ctrl-C)")
    args = parser.parse_args()
    token = os.environ.get("STOCKCHAT_TOKEN")
    if not token:
        raise SystemExit("set STOCKCHAT_TOKEN to a personal API token (made on /accounts/tokens/)")

    parts = urllib.parse.urlsplit(args.url)
    socket_url = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}/ws/"
    bot = Bot(RestApi(args.url, token), args.symbol, args.prefix, args.reprice_seconds)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if args.seconds is not None:
        loop.call_later(args.seconds, stop.set)
    following = asyncio.create_task(bot.follow(socket_url, token))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({following, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if following.done():
        stopping.cancel()
        following.result()  # raises SignedOut: nothing to tidy up with a refused token
    log("stopping")
    summary = await bot.shut_down()
    following.cancel()
    print("SUMMARY " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except SignedOut as exc:
        raise SystemExit(str(exc)) from None
