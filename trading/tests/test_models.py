"""Invariants the database itself refuses to break, whatever code tries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from trading.models import Account, LedgerEntry, Order, Position, PriceBar
from trading.tests.conftest import T0, buy

pytestmark = pytest.mark.django_db


def refused(update) -> bool:
    try:
        with transaction.atomic():
            update()
    except IntegrityError:
        return True
    return False


def test_account_cash_and_reservations_are_bounded(trader):
    accounts = Account.objects.filter(user=trader)
    assert refused(lambda: accounts.update(cash=Decimal("-0.01")))
    assert refused(lambda: accounts.update(reserved=Decimal("-1")))
    assert refused(lambda: accounts.update(reserved=Decimal("100000.01")))
    assert not refused(lambda: accounts.update(reserved=Decimal("100000.00")))


def test_positions_cannot_go_negative_or_over_reserve(trader, stock):
    buy(trader, stock, 5)
    positions = Position.objects.filter(account__user=trader)
    assert refused(lambda: positions.update(quantity=-1))
    assert refused(lambda: positions.update(reserved_quantity=6))
    assert refused(lambda: positions.update(quantity=0))  # a flat position keeps no cost


def test_order_rows_must_be_coherent(trader, stock):
    order = buy(trader, stock, 1, type="limit", limit_price="10")
    orders = Order.objects.filter(pk=order.pk)
    assert refused(lambda: orders.update(quantity=0))
    assert refused(lambda: orders.update(limit_price=None))
    assert refused(lambda: orders.update(stop_price=Decimal("5")))
    assert refused(lambda: orders.update(status="canceled"))  # still reserving, no closed_at
    assert refused(lambda: orders.update(status="filled", reserved_amount=0))
    assert refused(lambda: Order.objects.create(**{**_fields(order), "client_order_id": order.client_order_id}))


def _fields(order):
    return {
        "account_id": order.account_id,
        "stock_id": order.stock_id,
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
        "quantity": 1,
    }


def test_ledger_sign_must_match_kind(trader):
    account = Account.objects.get(user=trader)
    assert refused(
        lambda: LedgerEntry.objects.create(account=account, kind="deposit", amount=Decimal("-1"), balance_after=1)
    )
    assert refused(
        lambda: LedgerEntry.objects.create(account=account, kind="buy", amount=Decimal("-1"), balance_after=1)
    )
    assert refused(
        lambda: LedgerEntry.objects.create(account=account, kind="opening", amount=Decimal("1"), balance_after=1)
    )


def test_bars_must_be_consistent_and_unique(stock):
    def bar(**prices):
        base = {"open": 10, "high": 12, "low": 9, "close": 11}
        return PriceBar.objects.create(stock=stock, interval="1d", start=T0, **{**base, **prices})

    assert refused(lambda: bar(high=10.5))
    assert refused(lambda: bar(low=0))
    bar()
    assert refused(lambda: bar())
