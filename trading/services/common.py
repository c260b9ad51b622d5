"""Rounding, limits and row locks shared by the trading services."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core.errors import ServiceError
from core.money import CENT, MAX_PRICE, PRICE_STEP, has_places
from trading.models import Account, Position
from trading.templatetags.market_format import money

MAX_ORDER_QUANTITY = 1_000_000
MAX_CASH_MOVEMENT = Decimal("1000000000")

INVALID_PRICE = "invalid_price"
INVALID_AMOUNT = "invalid_amount"


def as_decimal(value: object, *, code: str, what: str) -> Decimal:
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
    price = as_decimal(value, code=INVALID_PRICE, what=what)
    if price <= 0:
        raise ServiceError(INVALID_PRICE, f"{what} must be positive.")
    if price > MAX_PRICE:
        raise ServiceError(INVALID_PRICE, f"{what} must be at most {MAX_PRICE}.")
    if not has_places(price, PRICE_STEP):
        raise ServiceError(INVALID_PRICE, f"{what} may have at most 4 decimal places.")
    return price.quantize(PRICE_STEP)


def clean_amount(value: object) -> Decimal:
    amount = as_decimal(value, code=INVALID_AMOUNT, what="Amount")
    if amount <= 0:
        raise ServiceError(INVALID_AMOUNT, "Amount must be positive.")
    if amount > MAX_CASH_MOVEMENT:
        raise ServiceError(INVALID_AMOUNT, f"Amount must be at most {money(MAX_CASH_MOVEMENT)}.")
    if not has_places(amount, CENT):
        raise ServiceError(INVALID_AMOUNT, "Amount may have at most 2 decimal places.")
    return amount.quantize(CENT)


def lock_account(account_id: int) -> Account:
    """Lock the account row. Always the first lock a trading transaction takes."""
    return Account.objects.select_for_update().get(pk=account_id)


def lock_position(account: Account, stock_id: int) -> Position:
    """Lock (creating if needed) the position. Caller holds the account lock.

    Creating under the account lock means two transactions never race to
    insert the same position.
    """
    position = Position.objects.select_for_update().filter(account=account, stock_id=stock_id).first()
    if position is None:
        position = Position.objects.create(account=account, stock_id=stock_id)
    return position
