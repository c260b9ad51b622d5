"""Trading queries: reads through ``trading.selectors``, as the REST API's."""

from __future__ import annotations

import dataclasses
import datetime as dt

import strawberry
from strawberry.types import Info

from core.graphql.base import (
    MAX_PAGE,
    Connection,
    connection,
    decode_cursor,
    graphql_error,
    page_size,
    viewer,
)
from core.inputs import require_id
from trading import selectors
from trading.graphql.types import (
    ALL_ORDERS,
    DAILY,
    Account,
    Activity,
    Bar,
    Interval,
    Order,
    PortfolioPoint,
    Position,
    StatusFilter,
    Stock,
    Watchlist,
    watchlist_of,
)

MAX_BARS_PAGE = 1000


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
        return watchlist_of(info, id)

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
