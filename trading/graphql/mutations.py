"""Trading mutations: writes through ``trading.services``, as the REST API's."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from django.utils import timezone
from strawberry.types import Info

from core.errors import ServiceError
from core.graphql.base import (
    graphql_error,
    staff_viewer,
    viewer,
)
from core.inputs import require_id
from core.ratelimit import throttle_user
from trading import selectors, services
from trading.graphql.types import (
    Order,
    Side,
    Stock,
    Tif,
    Type,
    Watchlist,
    watchlist_of,
)
from trading.orders import OrderRequest

ORDER_THROTTLE_SCOPE = "trading-orders"  # trading.api.orders.OrderListView's


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
    decision = throttle_user(ORDER_THROTTLE_SCOPE, user)
    if not decision.allowed:
        raise ServiceError(
            "throttled",
            f"Request was throttled. Expected available in {decision.retry_after} seconds.",
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
        return watchlist_of(info, strawberry.ID(str(watchlist.pk)))

    @strawberry.mutation
    def rename_watchlist(self, info: Info, id: strawberry.ID, name: str) -> Watchlist:
        watchlist = selectors.watchlist_get(viewer=viewer(info), watchlist_id=require_id(id, name="id"))
        services.watchlist_rename(watchlist=watchlist, name=name)
        return watchlist_of(info, id)

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
        return watchlist_of(info, id)

    @strawberry.mutation
    def remove_from_watchlist(self, info: Info, id: strawberry.ID, symbol: str) -> Watchlist:
        watchlist = selectors.watchlist_get(viewer=viewer(info), watchlist_id=require_id(id, name="id"))
        services.watchlist_item_remove(watchlist=watchlist, symbol=symbol)
        return watchlist_of(info, id)

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
