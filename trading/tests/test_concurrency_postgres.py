"""Real concurrency on PostgreSQL: threads racing on one account, one stock, one client order id."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections

from core.errors import ServiceError
from trading import services
from trading.books import books_violations
from trading.models import Account, Fill, LedgerEntry, Order, Position
from trading.orders import OrderRequest
from trading.tests.conftest import T0, new_stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def run_threads(count: int, work: Callable[[int, threading.Barrier], object]) -> list[object]:
    """Run ``work(i, barrier)`` in ``count`` threads started together; re-raise any unexpected error."""
    barrier = threading.Barrier(count, timeout=60)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            results[i] = work(i, barrier)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a worker thread hung"
    if errors:
        raise errors[0]
    return results


def test_many_threads_placing_and_cancelling_on_one_account(trader, stock):
    placed = [0] * THREADS

    def work(i: int, barrier: threading.Barrier) -> None:
        rng = random.Random(i)
        barrier.wait()
        for step in range(25):
            choice = rng.random()
            try:
                if choice < 0.35:
                    services.order_place(user=trader, symbol="ACME", side="buy", quantity=rng.randint(1, 30))
                elif choice < 0.6:
                    services.order_place(
                        user=trader,
                        symbol="ACME",
                        side="buy",
                        type="limit",
                        limit_price=Decimal(rng.randint(80, 99)),
                        quantity=rng.randint(1, 30),
                    )
                elif choice < 0.8:
                    services.order_place(user=trader, symbol="ACME", side="sell", quantity=rng.randint(1, 20))
                elif choice < 0.9:
                    open_ids = list(
                        Order.objects.filter(account__user=trader, status="new").values_list("pk", flat=True)
                    )
                    if open_ids:
                        services.order_cancel(user=trader, order_id=rng.choice(open_ids))
                    continue
                else:
                    price = Decimal(rng.randint(85, 115))
                    services.quote_record(stock=stock, price=price, at=T0 + timedelta(seconds=i * 100 + step))
                    continue
            except ServiceError:
                continue
            placed[i] += 1

    run_threads(THREADS, work)
    assert books_violations() == []
    # No lost updates: every accepted order is there, and every fill is in cash and shares.
    assert Order.objects.filter(account__user=trader).count() == sum(placed)
    account = Account.objects.get(user=trader)
    assert account.cash >= 0
    assert 0 <= account.reserved <= account.cash
    fills = Fill.objects.filter(account=account)
    bought = sum(f.quantity for f in fills if f.side == "buy")
    sold = sum(f.quantity for f in fills if f.side == "sell")
    assert Position.objects.get(account=account, stock=stock).quantity == bought - sold
    spent = sum(f.amount for f in fills if f.side == "buy") - sum(f.amount for f in fills if f.side == "sell")
    assert account.cash == Decimal("100000.00") - spent
    assert LedgerEntry.objects.filter(account=account).count() == 1 + fills.count()


def test_buying_power_is_never_spent_twice(make_user, settings, stock):
    settings.STOCKCHAT_OPENING_CASH = Decimal("1000.00")
    user = make_user("small")
    services.account_open(user=user)

    def work(i: int, barrier: threading.Barrier) -> str:
        barrier.wait()
        try:
            services.order_place(user=user, symbol="ACME", side="buy", quantity=1)
        except ServiceError as exc:
            return exc.code
        return "placed"

    results = run_threads(16, work)
    assert sorted(results) == ["insufficient_buying_power"] * 6 + ["placed"] * 10
    assert Account.objects.get(user=user).cash == 0
    assert books_violations() == []


def test_selling_the_same_shares_twice_is_impossible(trader, stock):
    services.order_place(user=trader, symbol="ACME", side="buy", quantity=5)

    def work(i: int, barrier: threading.Barrier) -> str:
        barrier.wait()
        try:
            services.order_place(user=trader, symbol="ACME", side="sell", type="limit", limit_price="500", quantity=2)
        except ServiceError as exc:
            return exc.code
        return "placed"

    assert sorted(run_threads(THREADS, work)) == ["insufficient_position"] * (THREADS - 2) + ["placed"] * 2
    assert Position.objects.get(account__user=trader).reserved_quantity == 4
    assert books_violations() == []


def test_concurrent_replays_of_one_client_order_id_make_one_order(trader, stock):
    def work(i: int, barrier: threading.Barrier) -> tuple[int, bool]:
        barrier.wait()
        request = OrderRequest.parse(symbol="ACME", side="buy", quantity=3, client_order_id="once")
        placed = services.order_submit(user=trader, request=request)
        return placed.order.pk, placed.replayed

    results = run_threads(THREADS, work)
    assert len({pk for pk, _ in results}) == 1
    assert sorted(replayed for _, replayed in results) == [False] + [True] * (THREADS - 1)
    assert Order.objects.filter(account__user=trader).count() == 1
    assert Position.objects.get(account__user=trader).quantity == 3
    assert books_violations() == []


def test_concurrent_conflicting_bodies_for_one_client_order_id(trader, stock):
    def work(i: int, barrier: threading.Barrier) -> str:
        barrier.wait()
        try:
            services.order_place(user=trader, symbol="ACME", side="buy", quantity=i + 1, client_order_id="dup")
        except ServiceError as exc:
            return exc.code
        return "placed"

    results = run_threads(THREADS, work)
    assert results.count("placed") == 1
    assert set(results) == {"placed", "client_order_id_conflict"}
    assert Order.objects.filter(account__user=trader).count() == 1


def test_cancel_racing_execution_ends_in_exactly_one_state(trader, other, stock):
    orders = [
        services.order_place(
            user=user, symbol="ACME", side="buy", type="limit", limit_price="95", quantity=1, time_in_force="gtc"
        )
        for user in (trader, other)
        for _ in range(10)
    ]

    def work(i: int, barrier: threading.Barrier) -> set[str]:
        barrier.wait()
        if i == 0:
            services.quote_record(stock=stock, price=Decimal("94"), at=T0 + timedelta(minutes=1))
            return set()
        user = trader if i % 2 else other
        refusals = set()
        for order in orders:
            if order.account.user_id == user.pk:
                try:
                    services.order_cancel(user=user, order_id=order.pk)
                except ServiceError as exc:
                    refusals.add(exc.code)
        return refusals

    results = run_threads(3, work)
    assert set().union(*results) <= {"order_not_open"}
    statuses = list(Order.objects.values_list("status", flat=True))
    assert set(statuses) <= {"filled", "canceled"}
    assert Fill.objects.count() == statuses.count("filled")
    assert books_violations() == []


def test_opening_one_account_from_many_threads(make_user):
    user = make_user("racer")

    def work(i: int, barrier: threading.Barrier) -> int:
        barrier.wait()
        return services.account_open(user=user).pk

    assert len(set(run_threads(THREADS, work))) == 1
    assert LedgerEntry.objects.filter(account__user=user).count() == 1


def test_quotes_on_two_stocks_and_orders_on_two_accounts_do_not_deadlock(trader, other, stock):
    beta = new_stock("BETA")
    for user in (trader, other):
        for symbol in ("ACME", "BETA"):
            services.order_place(user=user, symbol=symbol, side="buy", quantity=10)
            services.order_place(
                user=user, symbol=symbol, side="sell", type="limit", limit_price="101", quantity=5, time_in_force="gtc"
            )
            services.order_place(
                user=user, symbol=symbol, side="buy", type="limit", limit_price="99", quantity=5, time_in_force="gtc"
            )

    def work(i: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        target = (stock, beta)[i % 2]
        for step in range(10):
            price = Decimal("102") if step % 2 else Decimal("98")
            services.quote_record(stock=target, price=price, at=T0 + timedelta(minutes=1 + step, seconds=i))

    run_threads(4, work)
    assert not Order.objects.filter(status="new").exists()
    assert books_violations() == []
