"""The one valuation of positions and accounts: value, unrealized and day P&L, equity, day change.

Every figure a page, the API or ``static/js/valuation.js`` shows is computed by the rules here,
so the same quantities, costs and quotes give the same cents everywhere.

The rounding rule (``static/js/valuation.js`` repeats it in integer cents):

- per position, each product is rounded to the cent, half to even (banker's rounding):
  ``market_value = round(quantity * price)``, ``cost_basis = round(quantity * average_cost)``,
  ``previous_value = round(held_overnight * previous_close + held_from_today * today's buy price)``
  (the position's *day basis*, see below);
- everything else is a sum or difference of those cents, never rounded again:
  ``unrealized_pnl = market_value - cost_basis``, ``day_change = market_value - previous_value``,
  ``equity = cash + sum of market_value``, ``last_equity = cash + sum of previous_value``,
  ``day change of the account = equity - last_equity = sum of day_change``.

So the rows of a table always add up to its totals, to the cent. A position whose stock has no
quote yet is valued at its average cost and has no day change.

The day basis (as brokers' "today's return"): shares held since before today are measured from
the previous close, shares bought today from what was paid for them, so a position opened today
has a day change equal to its unrealized P&L. "Today" is the quote's day, the day its
``previous_close`` belongs to (``trading.services.market``: UTC days). Shares sold today come
first out of those held since before today (their realized P&L is not a day change), so of the
``quantity`` held now, ``held_from_today = min(quantity, bought_today)`` and the rest were held
overnight; if today's sales also took shares bought today, those still held are priced at today's
average buy price (``bought_today_amount / bought_today``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from core.money import ZERO, to_cents


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
    *,
    quantity: int,
    average_cost: Decimal,
    price: Decimal | None,
    previous_close: Decimal | None,
    bought_today: int = 0,
    bought_today_amount: Decimal = ZERO,
) -> PositionValuation:
    """One holding at ``price`` (its quote; ``None`` when the stock has none yet).

    ``bought_today`` shares were bought today for ``bought_today_amount`` (the sum of fill quantity * price).
    """
    cost_basis = to_cents(quantity * average_cost)
    if price is None:
        # No quote: valued at what it cost, unchanged on the day.
        return PositionValuation(quantity, None, None, cost_basis, cost_basis, cost_basis, ZERO, None)
    market_value = to_cents(quantity * price)
    held_from_today = min(quantity, bought_today)
    overnight = (quantity - held_from_today) * (previous_close if previous_close is not None else price)
    from_today = held_from_today * bought_today_amount / bought_today if held_from_today else ZERO
    previous_value = to_cents(overnight + from_today)
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
    """``value_position`` of a ``trading.models.Position`` with its stock's quote loaded (or absent).

    Today's buys come from the ``bought_today``/``bought_today_amount`` annotations that
    ``trading.selectors.position_list`` adds; a position loaded without them counts none.
    """
    quote = getattr(position.stock, "quote", None)
    return value_position(
        quantity=position.quantity,
        average_cost=position.average_cost,
        price=None if quote is None else quote.price,
        previous_close=None if quote is None else quote.previous_close,
        bought_today=getattr(position, "bought_today", None) or 0,
        bought_today_amount=getattr(position, "bought_today_amount", None) or ZERO,
    )
