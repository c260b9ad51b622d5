"""Every order state against every event: only ``new`` orders move, and only as the table says."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from core.errors import ServiceError
from trading import services
from trading.books import books_violations
from trading.models import Order, OrderStatus
from trading.services.lifecycle import ORDER_EVENTS, TRANSITIONS, OrderEvent, next_status
from trading.tests.conftest import T0, buy

EXPECTED = {
    ("new", "fill"): "filled",
    ("new", "cancel"): "canceled",
    ("new", "expire"): "expired",
    ("new", "reject"): "rejected",
}


@pytest.mark.parametrize("state", OrderStatus.values)
@pytest.mark.parametrize("event", ORDER_EVENTS)
def test_transition_table(state, event):
    expected = EXPECTED.get((state, event))
    if expected is None:
        with pytest.raises(ServiceError) as info:
            next_status(state, event)
        assert info.value.code == "order_not_open"
    else:
        assert next_status(state, event) == expected
    assert TRANSITIONS == EXPECTED


def order_in_state(user, stock, state: str) -> Order:
    """A real order brought to ``state`` through the services."""
    if state == "filled":
        return buy(user, stock, 1)
    if state == "rejected":
        services.account_withdraw(account=user.trading_account, amount="99000.00")
        order = buy(user, stock, 9, type="stop", stop_price="110")
        services.quote_record(stock=stock, price=Decimal("200"), at=T0 + timedelta(minutes=1))
        services.quote_record(stock=stock, price=Decimal("100"), at=T0 + timedelta(minutes=2))
        order.refresh_from_db()
        return order
    order = buy(user, stock, 1, type="limit", limit_price="50")
    if state == "canceled":
        services.order_cancel(user=user, order_id=order.pk)
    elif state == "expired":
        services.orders_expire_day()
    order.refresh_from_db()
    return order


def apply_event(user, stock, order: Order, event: str) -> None:
    if event == OrderEvent.FILL:
        services.quote_record(stock=stock, price=Decimal("40"), at=T0 + timedelta(minutes=5))
    elif event == OrderEvent.CANCEL:
        services.order_cancel(user=user, order_id=order.pk)
    elif event == OrderEvent.EXPIRE:
        services.orders_expire_day()
    elif event == OrderEvent.REJECT:
        # A stop buy that cannot be paid is the only way to be rejected; for a
        # limit order, a price that crosses it fills it instead.
        services.quote_record(stock=stock, price=Decimal("40"), at=T0 + timedelta(minutes=5))


@pytest.mark.django_db
@pytest.mark.parametrize("state", OrderStatus.values)
@pytest.mark.parametrize("event", ORDER_EVENTS)
def test_every_state_and_event_through_the_services(trader, stock, state, event):
    order = order_in_state(trader, stock, state)
    assert order.status == state
    before = Order.objects.filter(pk=order.pk).values().get()
    if state != "new" and event == OrderEvent.CANCEL:
        with pytest.raises(ServiceError) as info:
            apply_event(trader, stock, order, event)
        assert info.value.code == "order_not_open"
    else:
        apply_event(trader, stock, order, event)
    order.refresh_from_db()
    if state == "new":
        expected = {"fill": "filled", "cancel": "canceled", "expire": "expired", "reject": "filled"}[event]
        assert order.status == expected
    else:
        # A final order is left exactly as it was.
        assert Order.objects.filter(pk=order.pk).values().get() == before
    assert books_violations() == []
