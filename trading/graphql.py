"""Trading in GraphQL: the market, the viewer's books and orders, live quotes and order updates.

Resolvers call ``trading.selectors`` for every read and ``trading.services`` for every
write, exactly as ``trading.api`` does, so visibility and refusals (and their codes)
are the REST API's. Lists are read with the selectors' ``select_related``, so a page
costs the same number of queries whatever its length. See docs/graphql.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import typing
from collections.abc import AsyncGenerator
from decimal import Decimal
from math import ceil
from types import SimpleNamespace
from typing import Any

import strawberry
from channels.db import database_sync_to_async
from django.utils import timezone
from rest_framework.throttling import ScopedRateThrottle
from strawberry.types import Info

from core.errors import ServiceError
from core.graphql.base import (
    MAX_PAGE,
    Connection,
    connection,
    decode_cursor,
    graphql_error,
    page_size,
    refusals_as_errors,
    staff_viewer,
    viewer,
)
from core.graphql.streams import HubStream
from core.inputs import require_id
from trading import events, selectors, services
from trading.consumers import MAX_SYMBOLS_PER_FRAME, price_snapshots
from trading.models import BarInterval, OrderSide, OrderStatus, OrderType, TimeInForce
from trading.orders import OrderRequest

ORDER_THROTTLE_SCOPE = "trading-orders"  # trading.api.orders.OrderListView's
MAX_BARS_PAGE = 1000
MAX_QUOTE_SYMBOLS = MAX_SYMBOLS_PER_FRAME

Side = strawberry.enum(enum.Enum("OrderSide", {c.name: c.value for c in OrderSide}))
Type = strawberry.enum(enum.Enum("OrderType", {c.name: c.value for c in OrderType}))
Tif = strawberry.enum(enum.Enum("TimeInForce", {c.name: c.value for c in TimeInForce}))
Status = strawberry.enum(enum.Enum("OrderStatus", {c.name: c.value for c in OrderStatus}))
StatusFilter = strawberry.enum(
    enum.Enum(
        "OrderStatusFilter", {"ALL": "all", "OPEN": "open", "CLOSED": "closed"} | {c.name: c.value for c in OrderStatus}
    ),
    description="OPEN and CLOSED group the statuses: NEW is open, every other status is closed.",
)
Interval = strawberry.enum(enum.Enum("BarInterval", {c.name: c.value for c in BarInterval}))

DAILY = Interval(BarInterval.DAY.value)
ALL_ORDERS = StatusFilter("all")


# --- market ---------------------------------------------------------------------------


@strawberry.type
class Quote:
    symbol: str
    price: Decimal
    previous_close: Decimal
    change: Decimal
    at: dt.datetime

    @classmethod
    def from_model(cls, quote, symbol: str) -> Quote:
        return cls(
            symbol=symbol,
            price=quote.price,
            previous_close=quote.previous_close,
            change=quote.change,
            at=quote.updated_at,
        )

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> Quote:
        return cls(
            symbol=data["symbol"],
            price=Decimal(data["price"]),
            previous_close=Decimal(data["previous_close"]),
            change=Decimal(data["change"]),
            at=dt.datetime.fromisoformat(data["at"]),
        )


@strawberry.type
class Stock:
    symbol: str
    name: str
    sector: str
    exchange: str
    currency: str
    tradable: bool
    halted: bool
    quote: Quote | None

    @classmethod
    def from_model(cls, stock) -> Stock:
        # stock_list and stock_get select the company and quote: no query per stock.
        quote = getattr(stock, "quote", None)
        return cls(
            symbol=stock.symbol,
            name=stock.company.name,
            sector=stock.company.sector,
            exchange=stock.exchange,
            currency=stock.currency,
            tradable=stock.tradable,
            halted=stock.halted,
            quote=None if quote is None else Quote.from_model(quote, stock.symbol),
        )


@strawberry.type
class Bar:
    start: dt.datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


# --- the viewer's books -------------------------------------------------------------------


@strawberry.type
class Balance:
    """Cash as an order or fill changes it (``orderUpdates``)."""

    cash: Decimal
    reserved: Decimal
    buying_power: Decimal


def _object_type(shape: type, *, name: str, description: str) -> type:
    """A GraphQL type with exactly the fields of ``shape``, a selector's dataclass: the shape has one definition."""
    hints = typing.get_type_hints(shape)
    fields = {field.name: hints[field.name] for field in dataclasses.fields(shape)}
    return strawberry.type(type(name, (), {"__annotations__": fields, "__module__": __name__}), description=description)


Account = _object_type(
    selectors.PortfolioSummary,
    name="Account",
    description="The viewer's account at the current quotes (trading.selectors.PortfolioSummary).",
)


@strawberry.type
class Position:
    symbol: str
    quantity: int
    available: int
    average_cost: Decimal
    current_price: Decimal | None
    market_value: Decimal
    realized_pnl: Decimal

    @classmethod
    def from_model(cls, position) -> Position:
        quote = getattr(position.stock, "quote", None)
        return cls(
            symbol=position.stock.symbol,
            quantity=position.quantity,
            available=position.quantity - position.reserved_quantity,
            average_cost=position.average_cost,
            current_price=None if quote is None else quote.price,
            market_value=selectors.position_market_value(position),
            realized_pnl=position.realized_pnl,
        )


@strawberry.type
class Order:
    id: strawberry.ID
    client_order_id: str
    symbol: str
    side: Side
    type: Type
    time_in_force: Tif
    quantity: int
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: Status
    filled_quantity: int
    filled_average_price: Decimal | None
    reason: str
    replayed: bool = strawberry.field(
        default=False, description="placeOrder: true when clientOrderId named an order placed before."
    )

    @classmethod
    def from_model(cls, order, *, replayed: bool = False) -> Order:
        return cls.from_event(events.order_payload(order, order.stock.symbol)["order"], replayed)

    @classmethod
    def from_event(cls, data: dict[str, Any], replayed: bool = False) -> Order:
        def money(value: str | None) -> Decimal | None:
            return None if value is None else Decimal(value)

        return cls(
            id=strawberry.ID(str(data["id"])),
            client_order_id=data["client_order_id"],
            symbol=data["symbol"],
            side=Side(data["side"]),
            type=Type(data["type"]),
            time_in_force=Tif(data["time_in_force"]),
            quantity=data["quantity"],
            limit_price=money(data["limit_price"]),
            stop_price=money(data["stop_price"]),
            status=Status(data["status"]),
            filled_quantity=data["filled_quantity"],
            filled_average_price=money(data["filled_average_price"]),
            reason=data["reason"],
            replayed=replayed,
        )


@strawberry.type
class Fill:
    id: strawberry.ID
    order_id: strawberry.ID
    symbol: str
    side: Side
    quantity: int
    price: Decimal
    amount: Decimal
    realized_pnl: Decimal
    executed_at: dt.datetime

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> Fill:
        return cls(
            id=strawberry.ID(str(data["id"])),
            order_id=strawberry.ID(str(data["order_id"])),
            symbol=data["symbol"],
            side=Side(data["side"]),
            quantity=data["quantity"],
            price=Decimal(data["price"]),
            amount=Decimal(data["amount"]),
            realized_pnl=Decimal(data["realized_pnl"]),
            executed_at=dt.datetime.fromisoformat(data["executed_at"]),
        )


@strawberry.type
class Activity:
    id: strawberry.ID
    kind: str
    amount: Decimal
    balance_after: Decimal
    memo: str
    created_at: dt.datetime
    fill: Fill | None

    @classmethod
    def from_model(cls, entry) -> Activity:
        fill = entry.fill
        return cls(
            id=strawberry.ID(str(entry.pk)),
            kind=entry.kind,
            amount=entry.amount,
            balance_after=entry.balance_after,
            memo=entry.memo,
            created_at=entry.created_at,
            fill=None if fill is None else Fill.from_event(events.fill_payload(fill, fill.stock.symbol)["fill"]),
        )


@strawberry.type
class PortfolioPoint:
    day: dt.date
    cash: Decimal
    equity: Decimal


@strawberry.type
class Watchlist:
    id: strawberry.ID
    name: str
    stocks: list[Stock]

    @classmethod
    def from_model(cls, watchlist) -> Watchlist:
        # watchlist_list prefetches the visible items with their stocks.
        return cls(
            id=strawberry.ID(str(watchlist.pk)),
            name=watchlist.name,
            stocks=[Stock.from_model(item.stock) for item in watchlist.items.all()],
        )


@strawberry.type(description="One change to the viewer's trading: an order, a fill or the cash balance.")
class OrderUpdate:
    kind: str = strawberry.field(description="order.updated, fill.created or account.updated")
    order: Order | None = None
    fill: Fill | None = None
    account: Balance | None = None


# --- queries ----------------------------------------------------------------------------


def _watchlist(info: Info, watchlist_id: strawberry.ID) -> Watchlist:
    user = viewer(info)
    return Watchlist.from_model(selectors.watchlist_get(viewer=user, watchlist_id=require_id(watchlist_id, name="id")))


@strawberry.type
class TradingQuery:
    @strawberry.field(description="Visible stocks by symbol; search matches a symbol prefix or the company name.")
    def stocks(
        self,
        info: Info,
        search: str | None = None,
        sector: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Stock]:
        user = viewer(info)
        size = page_size(first)
        offset = decode_cursor(after) or 0
        rows = list(selectors.stock_list(viewer=user, search=search, sector=sector)[offset : offset + size + 1])
        positions = {id(row): offset + index + 1 for index, row in enumerate(rows)}
        return connection(rows, first=size, position=lambda row: positions[id(row)], node=Stock.from_model)

    @strawberry.field(description="A stock the viewer may see, with its quote; stock_not_found otherwise.")
    def stock(self, info: Info, symbol: str) -> Stock:
        return Stock.from_model(selectors.stock_get(viewer=viewer(info), symbol=symbol))

    @strawberry.field(description="The last `first` bars that start before `before` (default: now), oldest first.")
    def bars(
        self,
        info: Info,
        symbol: str,
        interval: Interval = DAILY,  # type: ignore[valid-type]
        first: int | None = None,
        before: dt.datetime | None = None,
    ) -> list[Bar]:
        size = page_size(first, default=MAX_PAGE, maximum=MAX_BARS_PAGE)
        if before is not None and before.tzinfo is None:
            raise graphql_error("invalid_query", "before must be a time with a time zone.")
        rows = selectors.bar_list(viewer=viewer(info), symbol=symbol, interval=interval.value, end=before)
        newest = list(rows.order_by("-start").values("start", "open", "high", "low", "close", "volume")[:size])
        return [Bar(**row) for row in reversed(newest)]

    @strawberry.field
    def account(self, info: Info) -> Account:
        return Account(**dataclasses.asdict(selectors.portfolio_summary(viewer=viewer(info))))

    @strawberry.field
    def positions(self, info: Info) -> list[Position]:
        return [Position.from_model(p) for p in selectors.position_list(viewer=viewer(info))]

    @strawberry.field(description="The viewer's orders, newest first.")
    def orders(
        self,
        info: Info,
        status: StatusFilter = ALL_ORDERS,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Order]:
        size = page_size(first)
        orders = selectors.order_list(viewer=viewer(info), status=status.value)
        if (before_id := decode_cursor(after)) is not None:
            orders = orders.filter(id__lt=before_id)
        return connection(list(orders[: size + 1]), first=size, position=lambda o: o.pk, node=Order.from_model)

    @strawberry.field
    def order(self, info: Info, id: strawberry.ID) -> Order:
        return Order.from_model(selectors.order_get(viewer=viewer(info), order_id=require_id(id, name="id")))

    @strawberry.field(description="The viewer's order with this clientOrderId.")
    def order_by_client_order_id(self, info: Info, client_order_id: str) -> Order:
        return Order.from_model(selectors.order_get_by_client_id(viewer=viewer(info), client_order_id=client_order_id))

    @strawberry.field
    def position(self, info: Info, symbol: str) -> Position:
        return Position.from_model(selectors.position_get(viewer=viewer(info), symbol=symbol))

    @strawberry.field
    def watchlist(self, info: Info, id: strawberry.ID) -> Watchlist:
        return _watchlist(info, id)

    @strawberry.field(description="Cash movements, newest first, each with its fill if it was a trade.")
    def activities(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Activity]:
        size = page_size(first)
        entries = selectors.activity_list(viewer=viewer(info))
        if (before_id := decode_cursor(after)) is not None:
            entries = entries.filter(id__lt=before_id)
        return connection(list(entries[: size + 1]), first=size, position=lambda e: e.pk, node=Activity.from_model)

    @strawberry.field(description="End-of-day cash and equity for the last `days` days (1 to 365).")
    def portfolio_history(self, info: Info, days: int = 30) -> list[PortfolioPoint]:
        if not 1 <= days <= 365:
            raise graphql_error("invalid_query", "days must be between 1 and 365.")
        points = selectors.portfolio_history(viewer=viewer(info), days=days)
        return [PortfolioPoint(day=p.day, cash=p.cash, equity=p.equity) for p in points]

    @strawberry.field
    def watchlists(self, info: Info) -> list[Watchlist]:
        return [Watchlist.from_model(w) for w in selectors.watchlist_list(viewer=viewer(info))]


# --- mutations ---------------------------------------------------------------------------


@strawberry.input
class PlaceOrderInput:
    symbol: str
    side: Side
    quantity: int
    type: Type = Type("market")  # type: ignore[misc]
    time_in_force: Tif = Tif("day")  # type: ignore[misc]
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str | None = strawberry.field(
        default=None, description="Idempotency key: the same id and request return the first order (replayed: true)."
    )


def _check_order_rate(user) -> None:
    """The REST API's order throttle (``trading-orders``), with the same counter: placing orders
    through GraphQL and REST together gets no more than either alone."""
    throttle = ScopedRateThrottle()
    request = SimpleNamespace(user=user, META={})
    if not throttle.allow_request(request, SimpleNamespace(throttle_scope=ORDER_THROTTLE_SCOPE)):
        wait = throttle.wait()
        raise ServiceError(
            "throttled",
            f"Request was throttled. Expected available in {ceil(wait or 1)} seconds.",
            status=429,
        )


@strawberry.type
class TradingMutation:
    @strawberry.mutation(description="Place an order; filled at once when the quote allows (as POST /api/v1/orders/).")
    def place_order(self, info: Info, input: PlaceOrderInput) -> Order:
        user = viewer(info)
        _check_order_rate(user)
        request = OrderRequest.parse(
            symbol=input.symbol,
            side=input.side.value,
            type=input.type.value,
            time_in_force=input.time_in_force.value,
            quantity=input.quantity,
            limit_price=input.limit_price,
            stop_price=input.stop_price,
            client_order_id=input.client_order_id,
        )
        placed = services.order_submit(user=user, request=request)
        return Order.from_model(placed.order, replayed=placed.replayed)

    @strawberry.mutation
    def cancel_order(self, info: Info, id: strawberry.ID) -> Order:
        user = viewer(info)
        order = services.order_cancel(user=user, order_id=require_id(id, name="id"))
        return Order.from_model(selectors.order_get(viewer=user, order_id=order.pk))

    @strawberry.mutation
    def create_watchlist(self, info: Info, name: str, symbols: list[str] | None = None) -> Watchlist:
        user = viewer(info)
        if symbols is not None and len(symbols) > 200:
            raise graphql_error("invalid", "A watchlist is created with at most 200 symbols.")
        watchlist = services.watchlist_create(owner=user, name=name, symbols=symbols or ())
        return _watchlist(info, strawberry.ID(str(watchlist.pk)))

    @strawberry.mutation
    def rename_watchlist(self, info: Info, id: strawberry.ID, name: str) -> Watchlist:
        watchlist = selectors.watchlist_get(viewer=viewer(info), watchlist_id=require_id(id, name="id"))
        services.watchlist_rename(watchlist=watchlist, name=name)
        return _watchlist(info, id)

    @strawberry.mutation
    def delete_watchlist(self, info: Info, id: strawberry.ID) -> bool:
        services.watchlist_delete(
            watchlist=selectors.watchlist_get(viewer=viewer(info), watchlist_id=require_id(id, name="id"))
        )
        return True

    @strawberry.mutation
    def add_to_watchlist(self, info: Info, id: strawberry.ID, symbol: str) -> Watchlist:
        watchlist = selectors.watchlist_get(viewer=viewer(info), watchlist_id=require_id(id, name="id"))
        services.watchlist_item_add(watchlist=watchlist, symbol=symbol)
        return _watchlist(info, id)

    @strawberry.mutation
    def remove_from_watchlist(self, info: Info, id: strawberry.ID, symbol: str) -> Watchlist:
        watchlist = selectors.watchlist_get(viewer=viewer(info), watchlist_id=require_id(id, name="id"))
        services.watchlist_item_remove(watchlist=watchlist, symbol=symbol)
        return _watchlist(info, id)

    @strawberry.mutation(description="Staff only: halt or resume trading in a stock (AppSync's updateCompanyStock).")
    def set_stock_halted(self, info: Info, symbol: str, halted: bool) -> Stock:
        user = staff_viewer(info)
        stock = selectors.stock_get(viewer=user, symbol=symbol)
        services.stock_set_halted(stock=stock, halted=halted)
        return Stock.from_model(selectors.stock_get(viewer=user, symbol=symbol))

    @strawberry.mutation(description="Staff only: record a new price for a stock, as a market tick would.")
    def set_stock_price(self, info: Info, symbol: str, price: Decimal) -> Stock:
        user = staff_viewer(info)
        stock = selectors.stock_get(viewer=user, symbol=symbol)
        services.quote_record(stock=stock, price=price, at=timezone.now())
        return Stock.from_model(selectors.stock_get(viewer=user, symbol=symbol))


# --- subscriptions --------------------------------------------------------------------------


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
