"""Trading frames on the one WebSocket: live prices for the symbols a tab follows.

The user's own order, fill and account events need no frame: every socket of a
user follows ``user.<id>`` from the moment it opens (see the base consumer).
"""

from __future__ import annotations

import re
from typing import Any

from channels.db import database_sync_to_async

from core.errors import NotFound, ServiceError
from trading import events
from trading.models import SYMBOL_PATTERN
from trading.selectors import stocks_visible

MAX_SYMBOLS_PER_FRAME = 50
MAX_PRICE_SUBSCRIPTIONS = 100

ERROR_UNKNOWN_SYMBOL = "unknown_symbol"
ERROR_TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
ERROR_INVALID = "invalid"
SYMBOL = re.compile(SYMBOL_PATTERN)


def _clean_symbols(frame: dict[str, Any]) -> list[str]:
    symbols = frame.get("symbols")
    if (
        not isinstance(symbols, list)
        or not symbols
        or len(symbols) > MAX_SYMBOLS_PER_FRAME
        or not all(_is_symbol(symbol) for symbol in symbols)
    ):
        raise ServiceError(
            ERROR_INVALID,
            f'"symbols" must be a list of 1 to {MAX_SYMBOLS_PER_FRAME} symbols'
            " (1-10 letters, digits or dots, starting with a letter).",
        )
    return list(dict.fromkeys(symbol.upper() for symbol in symbols))


def _is_symbol(value: object) -> bool:
    # ASCII first: str.upper() turns some other letters into ASCII ones ("ﬁ" -> "FI").
    return isinstance(value, str) and value.isascii() and SYMBOL.fullmatch(value.upper()) is not None


def price_snapshots(*, viewer, symbols: list[str]) -> list[dict[str, Any]]:
    """The current quote event of each symbol; NotFound naming every unknown or hidden one."""
    stocks = {
        stock.symbol: stock
        for stock in stocks_visible(viewer=viewer).filter(symbol__in=symbols).select_related("quote")
    }
    missing = [symbol for symbol in symbols if symbol not in stocks]
    if missing:
        raise NotFound(f"No stock with symbol {', '.join(missing)}.", code=ERROR_UNKNOWN_SYMBOL)
    snapshots = []
    for symbol in symbols:
        quote = getattr(stocks[symbol], "quote", None)
        if quote is not None:
            snapshots.append(events.quote_payload(quote, symbol))
    return snapshots


class PriceFrames:
    """Mixin for the socket consumer: ``prices.subscribe`` and ``prices.unsubscribe``."""

    def frame_handlers(self) -> dict[str, Any]:
        return {
            **super().frame_handlers(),
            "prices.subscribe": self.handle_prices_subscribe,
            "prices.unsubscribe": self.handle_prices_unsubscribe,
        }

    def _price_groups(self) -> set[str]:
        return {group for group in self.followed if group.startswith("price.")}

    async def handle_prices_subscribe(self, frame: dict[str, Any]) -> None:
        symbols = _clean_symbols(frame)
        new = [symbol for symbol in symbols if events.price_group(symbol) not in self.followed]
        if len(self._price_groups()) + len(new) > MAX_PRICE_SUBSCRIPTIONS:
            raise ServiceError(
                ERROR_TOO_MANY_SUBSCRIPTIONS,
                f"A socket follows at most {MAX_PRICE_SUBSCRIPTIONS} symbols; unsubscribe from some first.",
            )
        # Follow before reading the snapshot, so no tick falls between the two.
        # A tick may then reach the client before an older snapshot: quotes
        # carry their time and clients keep the newest (docs/websocket.md).
        read_snapshots = database_sync_to_async(price_snapshots)
        await read_snapshots(viewer=self.user, symbols=symbols)  # refuses unknown or hidden symbols
        for symbol in symbols:
            await self.follow(events.price_group(symbol))
        snapshots = await read_snapshots(viewer=self.user, symbols=symbols)
        self.send_frame({"type": "prices.subscribed", "symbols": symbols, "ref": frame.get("ref")})
        for snapshot in snapshots:
            self.send_frame(snapshot)

    async def handle_prices_unsubscribe(self, frame: dict[str, Any]) -> None:
        symbols = _clean_symbols(frame)
        for symbol in symbols:
            await self.unfollow(events.price_group(symbol))
        self.send_frame({"type": "prices.unsubscribed", "symbols": symbols, "ref": frame.get("ref")})
