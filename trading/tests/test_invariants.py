"""A hypothesis state machine over the trading services, checking the books after every step."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from core.errors import ServiceError
from trading import services
from trading.books import books_violations
from trading.models import Account, Order, Position
from trading.tests.conftest import T0, new_stock

_run = itertools.count()

prices = st.decimals(min_value=Decimal("1"), max_value=Decimal("400"), places=2)
quantities = st.integers(min_value=1, max_value=400)
order_types = st.sampled_from(["market", "limit", "stop", "stop_limit"])


def snapshot(user) -> tuple:
    account = Account.objects.get(user=user)
    positions = tuple(
        Position.objects.filter(account=account).order_by("pk").values_list("quantity", "reserved_quantity")
    )
    orders = tuple(Order.objects.filter(account=account).order_by("pk").values_list("status", "reserved_amount"))
    return account.cash, account.reserved, positions, orders


class Books(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example starts from the same database: its writes are rolled back in teardown.
        self.savepoint = transaction.savepoint()
        run = next(_run)
        self.users = [get_user_model().objects.create_user(f"hyp{run}-{i}", password=None) for i in range(2)]
        for user in self.users:
            services.account_open(user=user)
        self.stocks = [new_stock(f"H{run}X{i}", price="100.00") for i in range(2)]
        self.clock = itertools.count(1)

    def _now(self):
        return T0 + timedelta(minutes=next(self.clock))

    def _attempt(self, user, action) -> None:
        before = snapshot(user)
        try:
            action()
        except ServiceError:
            # A refused request changes nothing.
            assert snapshot(user) == before

    @rule(who=st.integers(0, 1), amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2))
    def deposit(self, who, amount):
        account = Account.objects.get(user=self.users[who])
        services.account_credit(account=account, amount=amount)

    @rule(
        who=st.integers(0, 1),
        which=st.integers(0, 1),
        side=st.sampled_from(["buy", "sell"]),
        type_=order_types,
        quantity=quantities,
        limit=prices,
        stop=prices,
        tif=st.sampled_from(["day", "gtc"]),
    )
    def place(self, who, which, side, type_, quantity, limit, stop, tif):
        user = self.users[who]
        self._attempt(
            user,
            lambda: services.order_place(
                user=user,
                symbol=self.stocks[which].symbol,
                side=side,
                type=type_,
                time_in_force=tif,
                quantity=quantity,
                limit_price=limit if type_ in ("limit", "stop_limit") else None,
                stop_price=stop if type_ in ("stop", "stop_limit") else None,
            ),
        )

    @rule(who=st.integers(0, 1), pick=st.integers(0, 50))
    def cancel(self, who, pick):
        user = self.users[who]
        ids = list(Order.objects.filter(account__user__in=self.users).order_by("pk").values_list("pk", flat=True))
        if ids:
            self._attempt(user, lambda: services.order_cancel(user=user, order_id=ids[pick % len(ids)]))

    @rule(which=st.integers(0, 1), price=prices)
    def move_price(self, which, price):
        services.quote_record(stock=self.stocks[which], price=price, at=self._now())

    @rule()
    def end_of_day(self):
        services.orders_expire_day()

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    @invariant()
    def books_balance(self):
        assert books_violations() == []
        for user in self.users:
            account = Account.objects.get(user=user)
            assert account.cash >= 0
            assert 0 <= account.reserved <= account.cash


@pytest.mark.django_db
def test_books_balance_after_every_step():
    run_state_machine_as_test(
        Books,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
