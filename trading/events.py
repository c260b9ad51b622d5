"""Trading events: channel-layer group names and the payloads sent to them.

Only services call the ``*_changed``/``*_recorded`` functions here. Each one
schedules its send with ``transaction.on_commit``, so an event never announces
a change that was rolled back. The channel-layer message is a fan-out hub
event (``core.realtime.hub``): every socket following the group gets the
payload as it is; quotes are latest-value frames, so a slow socket gets only
the newest quote of a symbol. Payloads are JSON-safe (decimals as strings,
times in ISO 8601) and carry ``v`` so clients can tell protocol versions apart.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.formats import api_datetime, api_decimal
from core.money import CENT, PRICE_STEP
from core.realtime.groups import user_group
from core.realtime.hub import hub_event
from core.realtime.publish import publish_many_on_commit, publish_on_commit

if TYPE_CHECKING:
    from datetime import datetime

    from trading.models import Account, Fill, Notification, Order, Quote

EVENT_VERSION = 1

ORDER_UPDATED = "order.updated"
FILL_CREATED = "fill.created"
ACCOUNT_UPDATED = "account.updated"
QUOTE_UPDATED = "quote.updated"
ALERT_TRIGGERED = "alert.triggered"
NOTIFICATIONS_READ = "notifications.read"


def price_group(symbol: str) -> str:
    return f"price.{symbol}"


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _api_time(value: datetime | None) -> str | None:
    return None if value is None else api_datetime(value)


def _price(value: Decimal | None) -> str | None:
    return None if value is None else api_decimal(value, PRICE_STEP)


def order_data(order: Order, symbol: str) -> dict[str, Any]:
    """An order as every client sees it: the ``order`` of an ``order.updated`` frame, the REST
    API's ``Order`` (``trading.api.orders.OrderSerializer`` renders this) and GraphQL's ``Order``.

    Decimals and times are written as the REST API writes them (``core.api``).
    """
    return {
        "id": order.pk,
        "client_order_id": order.client_order_id,
        "symbol": symbol,
        "side": order.side,
        "type": order.type,
        "time_in_force": order.time_in_force,
        "quantity": order.quantity,
        "limit_price": _price(order.limit_price),
        "stop_price": _price(order.stop_price),
        "status": order.status,
        "filled_quantity": order.filled_quantity,
        "filled_average_price": _price(order.filled_average_price),
        "reserved_amount": api_decimal(order.reserved_amount, CENT),
        "reason": order.reason,
        "submitted_at": _api_time(order.submitted_at),
        "updated_at": _api_time(order.updated_at),
        "triggered_at": _api_time(order.triggered_at),
        "closed_at": _api_time(order.closed_at),
    }


def order_payload(order: Order, symbol: str) -> dict[str, Any]:
    return {"type": ORDER_UPDATED, "v": EVENT_VERSION, "order": order_data(order, symbol)}


def fill_payload(fill: Fill, symbol: str) -> dict[str, Any]:
    return {
        "type": FILL_CREATED,
        "v": EVENT_VERSION,
        "fill": {
            "id": fill.pk,
            "order_id": fill.order_id,
            "symbol": symbol,
            "side": fill.side,
            "quantity": fill.quantity,
            "price": str(fill.price),
            "amount": str(fill.amount),
            "realized_pnl": str(fill.realized_pnl),
            "executed_at": _time(fill.executed_at),
        },
    }


def account_payload(account: Account) -> dict[str, Any]:
    return {
        "type": ACCOUNT_UPDATED,
        "v": EVENT_VERSION,
        "account": {
            "cash": str(account.cash),
            "reserved": str(account.reserved),
            "buying_power": str(account.buying_power),
        },
    }


def quote_payload(quote: Quote, symbol: str) -> dict[str, Any]:
    return {
        "type": QUOTE_UPDATED,
        "v": EVENT_VERSION,
        "quote": {
            "symbol": symbol,
            "price": str(quote.price),
            "previous_close": str(quote.previous_close),
            "change": str(quote.change),
            "at": _time(quote.updated_at),
        },
    }


def send_on_commit(group: str, payload: dict[str, Any], *, conflate: str | None = None) -> None:
    publish_on_commit(hub_event(group, payload, conflate=conflate))


def order_changed(order: Order, *, symbol: str, user_id: int) -> None:
    send_on_commit(user_group(user_id), order_payload(order, symbol))


def fill_created(fill: Fill, *, symbol: str, user_id: int) -> None:
    send_on_commit(user_group(user_id), fill_payload(fill, symbol))


def account_changed(account: Account) -> None:
    send_on_commit(user_group(account.user_id), account_payload(account))


def quotes_recorded(quotes: list[tuple[Quote, str]]) -> None:
    """One latest-value frame per ``(quote, symbol)`` to its price group, all sent after one commit."""
    messages = []
    for quote, symbol in quotes:
        group = price_group(symbol)
        messages.append(hub_event(group, quote_payload(quote, symbol), conflate=group))
    publish_many_on_commit(messages)


def alert_payload(notification: Notification, unread: int) -> dict[str, Any]:
    return {
        "type": ALERT_TRIGGERED,
        "v": EVENT_VERSION,
        "notification": {
            "id": notification.pk,
            "alert_id": notification.alert_id,
            "symbol": notification.symbol,
            "text": notification.text,
            "created_at": _time(notification.created_at),
        },
        "unread": unread,
    }


def alerts_fired(fired: list[tuple[Notification, int]]) -> None:
    """One frame per fired alert to its owner's sockets, with their unread count, after the commit."""
    publish_many_on_commit([hub_event(user_group(n.user_id), alert_payload(n, unread)) for n, unread in fired])


def notifications_read(*, user_id: int) -> None:
    """Every tab of the user clears its unread count."""
    send_on_commit(user_group(user_id), {"type": NOTIFICATIONS_READ, "v": EVENT_VERSION, "unread": 0})
