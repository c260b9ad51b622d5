"""Filling orders: moving cash and shares in one transaction."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.money import COST_STEP, to_cents
from trading import events
from trading.models import (
    Account,
    Fill,
    LedgerKind,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
)
from trading.services.accounts import ledger_post
from trading.services.common import lock_account, lock_position
from trading.services.lifecycle import OrderEvent, order_transition

REJECT_NO_CASH_AT_TRIGGER = "Not enough buying power when the stop price was reached."


def crosses(order: Order, price: Decimal) -> tuple[bool, bool]:
    """(fills, triggers) for ``order`` at ``price``.

    Stops become market orders when triggered; stop-limits become limits and
    remember the trigger in ``triggered_at``.
    """
    buy = order.side == OrderSide.BUY
    if order.type == OrderType.MARKET:
        return True, False
    if order.type == OrderType.LIMIT:
        return (price <= order.limit_price if buy else price >= order.limit_price), False
    stop_hit = price >= order.stop_price if buy else price <= order.stop_price
    if order.type == OrderType.STOP:
        return stop_hit, stop_hit
    triggered = order.triggered_at is not None or stop_hit
    limit_ok = price <= order.limit_price if buy else price >= order.limit_price
    return triggered and limit_ok, stop_hit and order.triggered_at is None


def fill_order(*, account: Account, position: Position, order: Order, price: Decimal, at: datetime) -> Fill | None:
    """Fill the whole order at ``price``.

    Caller holds the locks on account, position and order (in that order) in
    one transaction. Returns None when a triggered stop buy cannot be paid for
    and is rejected instead.
    """
    amount = to_cents(order.quantity * price)
    realized = Decimal("0")
    if order.side == OrderSide.BUY:
        held_by_others = account.reserved - order.reserved_amount
        if account.cash - held_by_others < amount:
            account.reserved = held_by_others
            account.save(update_fields=["reserved"])
            order_transition(order, OrderEvent.REJECT, reason=REJECT_NO_CASH_AT_TRIGGER)
            order.save()
            return None
        account.reserved = held_by_others
        new_quantity = position.quantity + order.quantity
        position.average_cost = (
            (position.quantity * position.average_cost + order.quantity * price) / new_quantity
        ).quantize(COST_STEP)
        position.quantity = new_quantity
    else:
        realized = amount - to_cents(order.quantity * position.average_cost)
        position.reserved_quantity -= order.quantity
        position.quantity -= order.quantity
        position.realized_pnl += realized
        if position.quantity == 0:
            position.average_cost = Decimal("0")
    # The position first: the ledger post below saves the account.
    position.save()
    order_transition(order, OrderEvent.FILL)
    order.filled_quantity = order.quantity
    order.filled_average_price = price
    order.save()
    fill = Fill.objects.create(
        order=order,
        account=account,
        stock_id=order.stock_id,
        side=order.side,
        quantity=order.quantity,
        price=price,
        amount=amount,
        realized_pnl=realized,
        executed_at=at,
    )
    kind = LedgerKind.BUY if order.side == OrderSide.BUY else LedgerKind.SELL
    signed = -amount if order.side == OrderSide.BUY else amount
    memo = f"{order.side} {order.quantity} @ {price}"
    ledger_post(account=account, kind=kind, amount=signed, memo=memo, fill=fill)
    return fill


def execute_locked(
    *, account: Account, position: Position | None, order: Order, price: Decimal, at: datetime, symbol: str
) -> bool:
    """Trigger and/or fill a locked open order if ``price`` crosses it; schedule its events.

    Returns True when the order changed.
    """
    fills, triggers = crosses(order, price)
    if not fills and not triggers:
        return False
    if triggers and order.type == OrderType.STOP_LIMIT:
        order.triggered_at = at
    if not fills:
        order.save(update_fields=["triggered_at", "updated_at"])
        events.order_changed(order, symbol=symbol, user_id=account.user_id)
        return True
    if position is None:
        position = lock_position(account, order.stock_id)
    if triggers and order.type == OrderType.STOP:
        order.triggered_at = at
    fill = fill_order(account=account, position=position, order=order, price=price, at=at)
    events.order_changed(order, symbol=symbol, user_id=account.user_id)
    if fill is not None:
        events.fill_created(fill, symbol=symbol, user_id=account.user_id)
    events.account_changed(account)
    return True


def order_execute(*, order_id: int, price: Decimal, at: datetime | None = None) -> bool:
    """Fill or trigger one resting order at a quote ``price``; the market feed's path.

    Takes the locks in the fixed order and re-checks the order, which may have
    been canceled or filled since the caller chose it. Returns True when it changed.
    """
    at = at or timezone.now()
    head = Order.objects.filter(pk=order_id).values("account_id", "stock_id", "side", "stock__symbol").first()
    if head is None:
        return False
    with transaction.atomic():
        account = lock_account(head["account_id"])
        position = lock_position(account, head["stock_id"])
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != OrderStatus.NEW:
            return False
        return execute_locked(
            account=account, position=position, order=order, price=price, at=at, symbol=head["stock__symbol"]
        )
