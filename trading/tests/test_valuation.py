"""The one valuation (trading/valuation.py): each product rounded to the cent half to even, every
other figure a sum or difference of those cents, so rows add up to totals."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from trading.valuation import to_cents, value_account, value_position

D = Decimal


def test_each_product_is_rounded_half_to_even():
    assert to_cents(D("0.005")) == D("0.00")
    assert to_cents(D("0.015")) == D("0.02")
    assert to_cents(D("-0.025")) == D("-0.02")
    held = value_position(quantity=3, average_cost=D("10.001667"), price=D("65.5950"), previous_close=D("64.0050"))
    assert held.cost_basis == D("30.01")  # 30.005001 -> 30.01
    assert held.market_value == D("196.78")  # 196.785 -> 196.78 (half to even)
    assert held.previous_value == D("192.02")  # 192.015 -> 192.02
    assert held.unrealized_pnl == D("166.77")
    assert held.day_change == D("4.76")


def test_a_position_without_a_quote_is_worth_its_cost_and_has_no_day_change():
    held = value_position(quantity=10, average_cost=D("65.53"), price=None, previous_close=None)
    assert (held.market_value, held.unrealized_pnl, held.day_change) == (D("655.30"), D("0.00"), None)


@given(
    st.lists(
        st.tuples(
            st.integers(1, 10_000),
            st.decimals(D("0.0001"), D("5000"), places=4),
            st.decimals(D("0.0001"), D("5000"), places=4),
            st.decimals(D("0.000001"), D("5000"), places=6),
        ),
        max_size=20,
    ),
    st.decimals(D("0"), D("1000000"), places=2),
)
def test_totals_are_the_sums_of_the_rows_to_the_cent(rows, cash):
    positions = [value_position(quantity=q, average_cost=c, price=p, previous_close=prev) for q, p, prev, c in rows]
    totals = value_account(cash=cash, positions=positions)
    assert totals.long_market_value == sum((p.market_value for p in positions), D("0"))
    assert totals.equity == cash + totals.long_market_value
    assert totals.equity - totals.last_equity == totals.day_change == sum((p.day_change for p in positions), D("0"))
    assert totals.unrealized_pnl == sum((p.unrealized_pnl for p in positions), D("0"))


def test_a_position_opened_today_changes_by_its_unrealized_pnl():
    # Bought 8 at 326.91 today; yesterday's close was 334.07: the day change is what was made since the buy.
    held = value_position(
        quantity=8,
        average_cost=D("326.91"),
        price=D("326.9375"),
        previous_close=D("334.07"),
        bought_today=8,
        bought_today_amount=8 * D("326.91"),
    )
    assert held.previous_value == held.cost_basis == D("2615.28")
    assert held.day_change == held.unrealized_pnl == D("0.22")
    totals = value_account(cash=D("100000") - D("2615.28"), positions=[held])
    assert totals.day_change == totals.unrealized_pnl == D("0.22")
    assert totals.last_equity == D("100000.00")


def test_shares_held_overnight_count_from_the_close_and_shares_added_today_from_their_price():
    # 10 held overnight (close 100), 5 more bought today at 104; now 106.
    held = value_position(
        quantity=15,
        average_cost=D("101.333333"),
        price=D("106"),
        previous_close=D("100"),
        bought_today=5,
        bought_today_amount=5 * D("104"),
    )
    assert held.previous_value == D("1520.00")  # 10 * 100 + 5 * 104
    assert held.day_change == D("70.00")  # 10 * 6 + 5 * 2


def test_sales_today_take_the_overnight_shares_first():
    # 10 held overnight (close 100), 4 sold today, 3 bought today at 104: 6 overnight + 3 today remain.
    held = value_position(
        quantity=9,
        average_cost=D("100"),
        price=D("106"),
        previous_close=D("100"),
        bought_today=3,
        bought_today_amount=3 * D("104"),
    )
    assert held.previous_value == D("912.00")  # 6 * 100 + 3 * 104
    assert held.day_change == D("42.00")
    # 4 overnight, 6 bought today (3 at 104, 3 at 108), 7 sold: the 3 left are today's, at their average 106.
    held = value_position(
        quantity=3,
        average_cost=D("106"),
        price=D("110"),
        previous_close=D("100"),
        bought_today=6,
        bought_today_amount=3 * D("104") + 3 * D("108"),
    )
    assert held.previous_value == D("318.00")
    assert held.day_change == held.unrealized_pnl == D("12.00")
