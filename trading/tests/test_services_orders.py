from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from core.errors import NotFound, ServiceError
from trading import services
from trading.books import books_violations
from trading.models import Account, Fill, LedgerEntry, Order, Position
from trading.orders import OrderRequest
from trading.services import orders as order_errors
from trading.tests.conftest import T0, buy, new_stock, sell

pytestmark = pytest.mark.django_db


def account(user) -> Account:
    return Account.objects.get(user=user)


def position(user, stock) -> Position:
    return Position.objects.get(account__user=user, stock=stock)


def test_account_opens_once_with_opening_cash_as_a_ledger_entry(make_user, settings):
    settings.STOCKCHAT_OPENING_CASH = Decimal("2500.00")
    user = make_user("newbie")
    first = services.account_open(user=user)
    again = services.account_open(user=user)
    assert first.pk == again.pk
    assert account(user).cash == Decimal("2500.00")
    assert list(LedgerEntry.objects.filter(account=first).values_list("kind", "amount")) == [
        ("opening", Decimal("2500.00"))
    ]


def test_market_buy_fills_at_the_quote_and_moves_cash_and_shares(trader, stock):
    order = buy(trader, stock, 10)
    assert order.status == "filled"
    assert order.filled_average_price == Decimal("100.0000")
    assert account(trader).cash == Decimal("99000.00")
    assert account(trader).reserved == 0
    pos = position(trader, stock)
    assert (pos.quantity, pos.average_cost) == (10, Decimal("100"))
    fill = Fill.objects.get(order=order)
    assert (fill.amount, fill.ledger_entry.amount) == (Decimal("1000.00"), Decimal("-1000.00"))
    assert books_violations() == []


def test_average_cost_and_realized_pnl_follow_each_fill(trader, stock):
    buy(trader, stock, 10)
    services.quote_record(stock=stock, price=Decimal("110"), at=T0 + timedelta(minutes=1))
    buy(trader, stock, 10)
    assert position(trader, stock).average_cost == Decimal("105")
    services.quote_record(stock=stock, price=Decimal("120"), at=T0 + timedelta(minutes=2))
    order = sell(trader, stock, 5)
    pos = position(trader, stock)
    assert (pos.quantity, pos.realized_pnl, pos.average_cost) == (15, Decimal("75.00"), Decimal("105"))
    assert order.fill.realized_pnl == Decimal("75.00")
    sell(trader, stock, 15)
    pos = position(trader, stock)
    assert (pos.quantity, pos.average_cost, pos.realized_pnl) == (0, 0, Decimal("300.00"))
    # 100000 - 1000 - 1100 + 600 + 1800
    assert account(trader).cash == Decimal("100300.00")
    assert books_violations() == []


def test_limit_buy_rests_reserving_cash_then_fills_when_the_quote_crosses(trader, stock):
    order = buy(trader, stock, 10, type="limit", limit_price="95.005")
    assert order.status == "new"
    assert order.reserved_amount == Decimal("950.05")
    assert account(trader).buying_power == Decimal("99049.95")
    services.quote_record(stock=stock, price=Decimal("96"), at=T0 + timedelta(minutes=1))
    assert Order.objects.get(pk=order.pk).status == "new"
    services.quote_record(stock=stock, price=Decimal("94.5"), at=T0 + timedelta(minutes=2))
    order.refresh_from_db()
    assert (order.status, order.filled_average_price, order.reserved_amount) == ("filled", Decimal("94.5"), 0)
    acct = account(trader)
    assert (acct.cash, acct.reserved) == (Decimal("99055.00"), 0)
    assert books_violations() == []


def test_marketable_limit_fills_at_once_at_the_better_quote(trader, stock):
    order = buy(trader, stock, 1, type="limit", limit_price="105")
    assert (order.status, order.filled_average_price) == ("filled", Decimal("100.0000"))


def test_limit_sell_fills_when_price_rises(trader, stock):
    buy(trader, stock, 10)
    order = sell(trader, stock, 10, type="limit", limit_price="120", time_in_force="gtc")
    assert position(trader, stock).reserved_quantity == 10
    services.quote_record(stock=stock, price=Decimal("121"), at=T0 + timedelta(minutes=1))
    order.refresh_from_db()
    assert order.status == "filled"
    assert position(trader, stock).quantity == 0
    assert books_violations() == []


def test_stop_sell_triggers_below_the_stop_and_fills_at_market(trader, stock):
    buy(trader, stock, 10)
    order = sell(trader, stock, 10, type="stop", stop_price="90")
    services.quote_record(stock=stock, price=Decimal("91"), at=T0 + timedelta(minutes=1))
    assert Order.objects.get(pk=order.pk).status == "new"
    services.quote_record(stock=stock, price=Decimal("88"), at=T0 + timedelta(minutes=2))
    order.refresh_from_db()
    assert (order.status, order.filled_average_price) == ("filled", Decimal("88"))
    assert position(trader, stock).realized_pnl == Decimal("-120.00")


def test_stop_limit_buy_triggers_then_waits_for_its_limit(trader, stock):
    order = buy(trader, stock, 10, type="stop_limit", stop_price="110", limit_price="111")
    services.quote_record(stock=stock, price=Decimal("112"), at=T0 + timedelta(minutes=1))
    order.refresh_from_db()
    assert order.status == "new"
    assert order.triggered_at is not None
    services.quote_record(stock=stock, price=Decimal("110.5"), at=T0 + timedelta(minutes=2))
    order.refresh_from_db()
    assert (order.status, order.filled_average_price) == ("filled", Decimal("110.5"))
    assert books_violations() == []


def test_stop_buy_that_cannot_be_paid_at_trigger_is_rejected_and_releases_cash(make_user, stock, settings):
    settings.STOCKCHAT_OPENING_CASH = Decimal("1000.00")
    user = make_user("small")
    order = buy(user, stock, 9, type="stop", stop_price="110")
    assert account(user).reserved == Decimal("990.00")
    services.quote_record(stock=stock, price=Decimal("150"), at=T0 + timedelta(minutes=1))
    order.refresh_from_db()
    assert order.status == "rejected"
    assert order.reason == services.execution.REJECT_NO_CASH_AT_TRIGGER
    assert (account(user).cash, account(user).reserved) == (Decimal("1000.00"), 0)
    assert books_violations() == []


def test_cancel_releases_the_reservation(trader, stock):
    order = buy(trader, stock, 10, type="limit", limit_price="50")
    services.order_cancel(user=trader, order_id=order.pk)
    order.refresh_from_db()
    assert (order.status, order.reserved_amount) == ("canceled", 0)
    assert account(trader).reserved == 0
    sale = None
    buy(trader, stock, 5)
    sale = sell(trader, stock, 5, type="limit", limit_price="500")
    services.order_cancel(user=trader, order_id=sale.pk)
    assert position(trader, stock).reserved_quantity == 0
    assert books_violations() == []


def test_cancelling_a_filled_order_is_refused(trader, stock):
    order = buy(trader, stock, 1)
    with pytest.raises(ServiceError) as info:
        services.order_cancel(user=trader, order_id=order.pk)
    assert info.value.code == "order_not_open"


def test_someone_elses_order_cannot_be_cancelled(trader, other, stock):
    order = buy(trader, stock, 1, type="limit", limit_price="1")
    with pytest.raises(NotFound):
        services.order_cancel(user=other, order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == "new"


def test_selling_more_than_held_is_rejected(trader, stock):
    buy(trader, stock, 5)
    sell(trader, stock, 3, type="limit", limit_price="500")
    with pytest.raises(ServiceError) as info:
        sell(trader, stock, 3)
    assert info.value.code == order_errors.INSUFFICIENT_POSITION
    assert "2 available" in info.value.detail


def test_insufficient_buying_power_is_rejected_and_nothing_is_written(trader, stock):
    with pytest.raises(ServiceError) as info:
        buy(trader, stock, 1001)
    assert info.value.code == "insufficient_buying_power"
    assert Order.objects.count() == 0
    assert account(trader).cash == Decimal("100000.00")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"quantity": 0}, "invalid_quantity"),
        ({"quantity": -3}, "invalid_quantity"),
        ({"quantity": 1_000_001}, "invalid_quantity"),
        ({"quantity": "1.5"}, "invalid_quantity"),
        ({"quantity": True}, "invalid_quantity"),
        ({"type": "limit"}, "invalid_order"),
        ({"type": "limit", "limit_price": "0"}, "invalid_price"),
        ({"type": "limit", "limit_price": "-1"}, "invalid_price"),
        ({"type": "limit", "limit_price": "10.00001"}, "invalid_price"),
        ({"type": "limit", "limit_price": "NaN"}, "invalid_price"),
        ({"type": "limit", "limit_price": 10.5}, "invalid_price"),
        ({"type": "market", "limit_price": "10"}, "invalid_order"),
        ({"type": "stop"}, "invalid_order"),
        ({"side": "short"}, "invalid_order"),
        ({"time_in_force": "ioc"}, "invalid_order"),
        ({"client_order_id": "x" * 65}, "invalid_client_order_id"),
        ({"client_order_id": "with space"}, "invalid_client_order_id"),
    ],
)
def test_invalid_orders_are_refused_with_a_code(trader, stock, fields, code):
    request = {"symbol": stock.symbol, "side": "buy", "quantity": 1, **fields}
    with pytest.raises(ServiceError) as info:
        services.order_place(user=trader, **request)
    assert info.value.code == code
    assert Order.objects.count() == 0


def test_unknown_halted_and_untradable_stocks_are_refused(trader, stock):
    with pytest.raises(NotFound) as info:
        services.order_place(user=trader, symbol="NOPE", side="buy", quantity=1)
    assert info.value.code == "stock_not_found"
    services.stock_set_halted(stock=stock, halted=True)
    with pytest.raises(ServiceError) as info:
        buy(trader, stock, 1)
    assert info.value.code == "stock_halted"
    dull = new_stock("DULL", tradable=False)
    with pytest.raises(ServiceError) as info:
        buy(trader, dull, 1)
    assert info.value.code == "stock_not_tradable"


def test_market_order_without_a_quote_is_refused(trader):
    fresh = new_stock("NEWCO", price=None)
    with pytest.raises(ServiceError) as info:
        buy(trader, fresh, 1)
    assert info.value.code == "no_quote"


def test_halted_stock_records_prices_but_executes_nothing(trader, stock):
    order = buy(trader, stock, 1, type="limit", limit_price="90")
    services.stock_set_halted(stock=stock, halted=True)
    services.quote_record(stock=stock, price=Decimal("80"), at=T0 + timedelta(minutes=1))
    assert Order.objects.get(pk=order.pk).status == "new"
    services.stock_set_halted(stock=stock, halted=False)
    services.quote_record(stock=stock, price=Decimal("80"), at=T0 + timedelta(minutes=2))
    assert Order.objects.get(pk=order.pk).status == "filled"


def test_same_client_order_id_returns_the_first_order(trader, stock):
    request = OrderRequest.parse(symbol=stock.symbol, side="buy", quantity=2, client_order_id="abc-1")
    first = services.order_submit(user=trader, request=request)
    again = services.order_submit(user=trader, request=request)
    assert (again.order.pk, first.replayed, again.replayed) == (first.order.pk, False, True)
    assert position(trader, stock).quantity == 2


def test_same_client_order_id_with_a_different_body_is_an_error(trader, stock):
    buy(trader, stock, 2, client_order_id="abc-1")
    with pytest.raises(ServiceError) as info:
        buy(trader, stock, 3, client_order_id="abc-1")
    assert info.value.code == "client_order_id_conflict"
    assert Order.objects.count() == 1


def test_client_order_ids_are_per_account(trader, other, stock):
    a = buy(trader, stock, 1, client_order_id="same")
    b = buy(other, stock, 1, client_order_id="same")
    assert a.pk != b.pk


def test_day_orders_expire_and_gtc_orders_stay(trader, stock):
    day = buy(trader, stock, 1, type="limit", limit_price="50")
    gtc = buy(trader, stock, 1, type="limit", limit_price="50", time_in_force="gtc")
    assert services.orders_expire_day() == 1
    day.refresh_from_db()
    gtc.refresh_from_db()
    assert (day.status, gtc.status) == ("expired", "new")
    assert account(trader).reserved == gtc.reserved_amount
    assert books_violations() == []


def test_quote_record_rolls_bars_and_previous_close(stock):
    services.quote_record(stock=stock, price=Decimal("101"), at=T0 + timedelta(seconds=10))
    services.quote_record(stock=stock, price=Decimal("99"), at=T0 + timedelta(seconds=20))
    bar = stock.bars.get(interval="1m", start=T0.replace(second=0))
    assert (bar.open, bar.high, bar.low, bar.close) == (Decimal("100"), Decimal("101"), Decimal("99"), Decimal("99"))
    stock.quote.refresh_from_db()
    assert stock.quote.previous_close == Decimal("100")
    services.quote_record(stock=stock, price=Decimal("105"), at=T0 + timedelta(days=1))
    stock.quote.refresh_from_db()
    assert (stock.quote.previous_close, stock.quote.price) == (Decimal("99"), Decimal("105"))
    assert stock.bars.filter(interval="1d").count() == 2


def test_credit_and_withdraw_go_through_the_ledger(trader, stock):
    acct = account(trader)
    services.account_credit(account=acct, amount="10.50")
    buy(trader, stock, 10, type="limit", limit_price="50")
    with pytest.raises(ServiceError):
        services.account_withdraw(account=acct, amount="99511.00")
    services.account_withdraw(account=acct, amount="99510.50")
    acct.refresh_from_db()
    assert (acct.cash, acct.reserved, acct.buying_power) == (Decimal("500.00"), Decimal("500.00"), 0)
    for bad in ("0", "-5", "1.001", 3.5, "abc"):
        with pytest.raises(ServiceError):
            services.account_credit(account=acct, amount=bad)
    assert books_violations() == []


def test_first_order_opens_the_account_it_is_placed_on(db, stock, settings):
    settings.STOCKCHAT_OPENING_CASH = Decimal("2500.00")
    # A user row saved directly, as a data import might: the manager's create_user would open the account.
    user = get_user_model().objects.create(username="first-order")
    assert not Account.objects.filter(user=user).exists()
    order = buy(user, stock, 2, type="limit", limit_price="90.00")
    assert order.account == account(user)
    assert (account(user).cash, account(user).reserved) == (Decimal("2500.00"), Decimal("180.00"))
    assert books_violations() == []


def test_a_resting_buy_reserves_cash_and_leaves_positions_alone(trader, stock):
    order = buy(trader, stock, 3, type="limit", limit_price="90.00")
    assert order.status == "new"
    assert not Position.objects.filter(account__user=trader).exists()
    services.quote_record(stock=stock, price=Decimal("89.50"), at=T0 + timedelta(minutes=1))
    order.refresh_from_db()
    assert order.status == "filled"
    assert (position(trader, stock).quantity, account(trader).reserved) == (3, Decimal("0.00"))
    assert books_violations() == []


@pytest.mark.parametrize(
    ("order", "code"),
    [
        ({"side": "buy", "quantity": 1_000_000}, order_errors.INSUFFICIENT_CASH),
        ({"side": "buy", "quantity": 10, "type": "limit", "limit_price": "20000"}, order_errors.INSUFFICIENT_CASH),
        ({"side": "sell", "quantity": 1}, order_errors.INSUFFICIENT_POSITION),
    ],
)
def test_order_check_refuses_what_placing_would_and_holds_nothing(trader, stock, order, code):
    before = account(trader)
    with pytest.raises(ServiceError) as checked:
        services.order_check(user=trader, symbol="ACME", **order)
    with pytest.raises(ServiceError) as placed:
        services.order_place(user=trader, symbol="ACME", **order)
    assert checked.value.code == placed.value.code == code
    assert checked.value.detail == placed.value.detail
    after = account(trader)
    assert (after.cash, after.reserved) == (before.cash, before.reserved)
    assert not Order.objects.exists()


def test_order_check_passes_an_order_that_can_be_placed_and_places_nothing(trader, stock):
    services.order_check(user=trader, symbol="ACME", side="buy", quantity=3)
    assert not Order.objects.exists()
    assert account(trader).reserved == Decimal("0")


def test_order_check_refuses_a_halted_stock(trader, stock):
    services.stock_set_halted(stock=stock, halted=True)
    with pytest.raises(ServiceError) as checked:
        services.order_check(user=trader, symbol="ACME", side="buy", quantity=1)
    assert checked.value.code == order_errors.STOCK_HALTED


def test_buying_power_errors_read_as_money(trader, stock):
    money_message = r"needs \$100,000,000\.00 of buying power; the account has \$[\d,]+\.\d\d\."
    with pytest.raises(ServiceError, match=money_message):
        services.order_place(user=trader, symbol="ACME", side="buy", quantity=1_000_000)
