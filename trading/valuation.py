"""The one valuation of positions and accounts: value, unrealized and day P&L, equity, day change.

Every figure a page, the API or ``static/js/valuation.js`` shows is computed by the rules here,
so the same quantities, costs and quotes give the same cents everywhere.

The rounding rule (``static/js/valuation.js`` repeats it in integer cents):

- per position, each product is rounded to the cent, half to even (banker's rounding):
  ``market_value = round(quantity * price)``, ``cost_basis = round(quantity * average_cost)``,
  ``previous_value = round(quantity * previous_close)``;
- everything else is a sum or difference of those cents, never rounded again:
  ``unrealized_pnl = market_value - cost_basis``, ``day_change = market_value - previous_value``,
  ``equity = cash + sum of market_value``, ``last_equity = cash + sum of previous_value``,
  ``day change of the account = equity - last_equity = sum of day_change``.

So the rows of a table always add up to its totals, to the cent. A position whose stock has no
quote yet is valued at its average cost and has no day change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(amount: Decimal) -> Decimal:
    """``amount`` rounded to the cent, half to even: the valuation's only rounding."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class PositionValuation:
    quantity: int
    price: Decimal | None
    previous_close: Decimal | None
    cost_basis: Decimal
    market_value: Decimal
    previous_value: Decimal
    unrealized_pnl: Decimal
    day_change: Decimal | None


@dataclass(frozen=True)
class AccountValuation:
    cash: Decimal
    long_market_value: Decimal
    cost_basis: Decimal
    equity: Decimal
    last_equity: Decimal
    unrealized_pnl: Decimal
    day_change: Decimal


def value_position(
    *, quantity: int, average_cost: Decimal, price: Decimal | None, previous_close: Decimal | None
) -> PositionValuation:
    """One holding at ``price`` (its quote; ``None`` when the stock has none yet)."""
    cost_basis = to_cents(quantity * average_cost)
    if price is None:
        # No quote: valued at what it cost, unchanged on the day.
        return PositionValuation(quantity, None, None, cost_basis, cost_basis, cost_basis, ZERO, None)
    market_value = to_cents(quantity * price)
    previous_value = to_cents(quantity * (previous_close if previous_close is not None else price))
    return PositionValuation(
        quantity=quantity,
        price=price,
        previous_close=previous_close,
        cost_basis=cost_basis,
        market_value=market_value,
        previous_value=previous_value,
        unrealized_pnl=market_value - cost_basis,
        day_change=market_value - previous_value,
    )


def value_account(*, cash: Decimal, positions: Iterable[PositionValuation]) -> AccountValuation:
    """The account's totals: sums of its positions' cents, plus its cash."""
    market_value = cost_basis = previous_value = ZERO
    for position in positions:
        market_value += position.market_value
        cost_basis += position.cost_basis
        previous_value += position.previous_value
    return AccountValuation(
        cash=cash,
        long_market_value=market_value,
        cost_basis=cost_basis,
        equity=cash + market_value,
        last_equity=cash + previous_value,
        unrealized_pnl=market_value - cost_basis,
        day_change=market_value - previous_value,
    )


def value_held(position) -> PositionValuation:
    """``value_position`` of a ``trading.models.Position`` with its stock's quote loaded (or absent)."""
    quote = getattr(position.stock, "quote", None)
    return value_position(
        quantity=position.quantity,
        average_cost=position.average_cost,
        price=None if quote is None else quote.price,
        previous_close=None if quote is None else quote.previous_close,
    )
