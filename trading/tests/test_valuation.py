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
