"""Every write to trading data goes through a function in this package.

Each service owns its transaction, takes row locks in one fixed order (account,
then position, then order) so two services never wait on each other in a
circle, and schedules its events on commit.
"""

from __future__ import annotations

from trading.services.accounts import account_credit, account_open, account_withdraw
from trading.services.alerts import alert_create, alert_delete, alert_rearm, notifications_mark_read
from trading.services.execution import order_execute
from trading.services.listing import ListingImportResult, listing_import
from trading.services.market import PriceTick, quote_record, quotes_record, stock_set_halted
from trading.services.orders import (
    Placed,
    order_cancel,
    order_check,
    order_place,
    order_review,
    order_submit,
    orders_expire_day,
)
from trading.services.watchlists import (
    watchlist_create,
    watchlist_delete,
    watchlist_item_add,
    watchlist_item_remove,
    watchlist_rename,
)

__all__ = [
    "ListingImportResult",
    "Placed",
    "PriceTick",
    "account_credit",
    "account_open",
    "account_withdraw",
    "alert_create",
    "alert_delete",
    "alert_rearm",
    "listing_import",
    "notifications_mark_read",
    "order_cancel",
    "order_check",
    "order_execute",
    "order_place",
    "order_review",
    "order_submit",
    "orders_expire_day",
    "quote_record",
    "quotes_record",
    "stock_set_halted",
    "watchlist_create",
    "watchlist_delete",
    "watchlist_item_add",
    "watchlist_item_remove",
    "watchlist_rename",
]
