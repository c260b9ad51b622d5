"""Limits and row locks shared by the trading services (money and price rules: ``core.money``)."""

from __future__ import annotations

from decimal import Decimal

from core.errors import ServiceError
from core.money import CENT, as_decimal, has_places
from trading.models import Account, Position
from trading.templatetags.market_format import money

MAX_CASH_MOVEMENT = Decimal("1000000000")

INVALID_AMOUNT = "invalid_amount"


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
