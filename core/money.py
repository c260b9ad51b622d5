"""Money and prices: the steps, the limits, the rounding, parsing and formatting, in one place.

Every amount the books keep (cash, reserves, fills' amounts, valuations) is rounded
to the cent by ``to_cents``, half to even (banker's rounding): over many fills ties
round up as often as down, so rounding adds no drift to a ledger, and it is the
rounding ``static/js/valuation.js`` repeats in integer cents. That was already the
rule of the services and of the valuation; the price simulator now uses it too.

Two other roundings exist on purpose and are named for what they are:

- ``cents_up`` rounds *up* (ceiling) the cash an order holds back, a bound that
  must never fall short of what a fill at the limit costs;
- ``display_rounded`` rounds half away from zero for text people read, because
  that is what the browser's ``Intl.NumberFormat`` does (``static/js/format.js``):
  a figure looks the same before and after a live update replaces it. It only
  differs from ``to_cents`` on values with more than two places (4-place prices,
  percentages), never on an amount the books hold.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import ServiceError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PRICE_STEP = Decimal("0.0001")  # a price's tick: four decimal places
PRICE_PLACES = 4
COST_STEP = Decimal("0.000001")  # an average cost keeps six places
PERCENT_STEP = CENT  # percentages are shown and stored to two places

# The highest price anything accepts: an order's limit or stop, a quote, an imported bar.
MAX_PRICE = Decimal("1000000")
MIN_PRICE = PRICE_STEP
# The lowest price the simulated market walks down to: one cent.
MIN_TICK_PRICE = CENT

INVALID_PRICE = "invalid_price"

BOOKS_ROUNDING = ROUND_HALF_EVEN
DISPLAY_ROUNDING = ROUND_HALF_UP


def to_cents(amount: Decimal) -> Decimal:
    """``amount`` rounded to the cent, half to even: the books' only rounding."""
    return amount.quantize(CENT, rounding=BOOKS_ROUNDING)


def cents_up(amount: Decimal) -> Decimal:
    """``amount`` rounded up to the cent: a reserve that covers the amount it stands for."""
    return amount.quantize(CENT, rounding=ROUND_CEILING)


def display_rounded(amount: Decimal, places: int = 2) -> Decimal:
    """``amount`` to ``places`` decimals as the browser rounds text (half away from zero)."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=DISPLAY_ROUNDING)


def has_places(value: Decimal, step: Decimal) -> bool:
    """Whether ``value`` has no more decimal places than ``step`` (``Decimal("1.005")`` and ``CENT``: no)."""
    return value == value.quantize(step)


def parse_decimal(value: object) -> Decimal | None:
    """A finite ``Decimal`` from a number or its text, or None (nothing, junk, infinity, NaN)."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def price_text(value: Decimal | None) -> str | None:
    """A price as the API writes it: four places, fixed point (``"12.5000"``); None stays None."""
    return None if value is None else f"{value.quantize(PRICE_STEP):f}"


def as_decimal(value: object, *, code: str, what: str) -> Decimal:
    """``value`` (a decimal, an int or their text) as a finite ``Decimal``, else ``ServiceError(code)``."""
    if isinstance(value, float):
        # A float has already lost the exact amount the caller meant.
        raise ServiceError(code, f"{what} must be given as a decimal string, not a float.")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ServiceError(code, f"{what} must be a number.") from None
    if not number.is_finite():
        raise ServiceError(code, f"{what} must be a finite number.")
    return number


def clean_price(value: object, *, what: str = "Price") -> Decimal:
    """A price anything may take (an order's limit or stop, a quote, an alert's level): positive, at most
    ``MAX_PRICE``, at most four places; else ``ServiceError("invalid_price")``."""
    price = as_decimal(value, code=INVALID_PRICE, what=what)
    if price <= 0:
        raise ServiceError(INVALID_PRICE, f"{what} must be positive.")
    if price > MAX_PRICE:
        raise ServiceError(INVALID_PRICE, f"{what} must be at most {MAX_PRICE}.")
    if not has_places(price, PRICE_STEP):
        raise ServiceError(INVALID_PRICE, f"{what} may have at most {PRICE_PLACES} decimal places.")
    return price.quantize(PRICE_STEP)
