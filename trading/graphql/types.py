"""The trading GraphQL types: the market, the viewer's books and orders."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import typing
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from core.graphql.base import viewer
from core.inputs import require_id
from trading import events, selectors
from trading.models import BarInterval, OrderSide, OrderStatus, OrderType, TimeInForce

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


def watchlist_of(info: Info, watchlist_id: strawberry.ID) -> Watchlist:
    user = viewer(info)
    return Watchlist.from_model(selectors.watchlist_get(viewer=user, watchlist_id=require_id(watchlist_id, name="id")))
