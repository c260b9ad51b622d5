"""Trading subscriptions: live quotes and the viewer's order updates, from the fan-out hub."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from decimal import Decimal

import strawberry
from channels.db import database_sync_to_async
from strawberry.types import Info

from core.graphql.base import (
    graphql_error,
    refusals_as_errors,
    viewer,
)
from core.graphql.streams import HubStream
from trading import events
from trading.consumers import MAX_SYMBOLS_PER_FRAME, price_snapshots
from trading.graphql.types import (
    Balance,
    Fill,
    Order,
    OrderUpdate,
    Quote,
)

MAX_QUOTE_SYMBOLS = MAX_SYMBOLS_PER_FRAME


def _clean_symbols(symbols: list[str]) -> list[str]:
    if not symbols or len(symbols) > MAX_QUOTE_SYMBOLS or not all(0 < len(s) <= 12 for s in symbols):
        raise graphql_error("invalid", f"symbols must list 1 to {MAX_QUOTE_SYMBOLS} symbols.")
    return list(dict.fromkeys(symbol.upper() for symbol in symbols))


@strawberry.type
class TradingSubscription:
    @strawberry.subscription(
        description="The current quote of each symbol, then every change (only the newest if the client lags)."
    )
    @refusals_as_errors
    async def quotes(self, info: Info, symbols: list[str]) -> AsyncGenerator[Quote, None]:
        user = viewer(info)
        symbols = _clean_symbols(symbols)
        read_snapshots = database_sync_to_async(price_snapshots)
        await read_snapshots(viewer=user, symbols=symbols)  # refuses unknown and hidden symbols
        async with HubStream() as stream:
            # Follow before reading the snapshot, so no tick falls between the two.
            for symbol in symbols:
                await stream.follow(events.price_group(symbol))
            await stream.follow_viewer(info.context, user)  # sign-out and deactivation end the stream
            for snapshot in await read_snapshots(viewer=user, symbols=symbols):
                yield Quote.from_event(snapshot["quote"])
            async for frame in stream:
                if frame.get("type") == events.QUOTE_UPDATED:
                    yield Quote.from_event(frame["quote"])

    @strawberry.subscription(description="The viewer's order changes, fills and cash balance, as they happen.")
    @refusals_as_errors
    async def order_updates(self, info: Info) -> AsyncGenerator[OrderUpdate, None]:
        user = viewer(info)
        async with HubStream() as stream:
            await stream.follow_viewer(info.context, user)
            async for frame in stream:
                kind = frame.get("type")
                if kind == events.ORDER_UPDATED:
                    yield OrderUpdate(kind=kind, order=Order.from_event(frame["order"]))
                elif kind == events.FILL_CREATED:
                    yield OrderUpdate(kind=kind, fill=Fill.from_event(frame["fill"]))
                elif kind == events.ACCOUNT_UPDATED:
                    yield OrderUpdate(
                        kind=kind, account=Balance(**{k: Decimal(v) for k, v in frame["account"].items()})
                    )
