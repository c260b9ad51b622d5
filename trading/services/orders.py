"""Placing, cancelling and expiring orders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Unpack

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ServiceError
from core.money import cents_up, to_cents
from trading import events, selectors
from trading.models import Account, Order, OrderSide, OrderStatus, OrderType, Position, Stock, TimeInForce
from trading.orders import OrderFields, OrderRequest
from trading.services.accounts import INSUFFICIENT_CASH, account_open
from trading.services.common import lock_account, lock_position
from trading.services.execution import execute_locked
from trading.services.lifecycle import OrderEvent, order_transition
from trading.templatetags.market_format import money

CLIENT_ORDER_ID_CONFLICT = "client_order_id_conflict"
STOCK_NOT_TRADABLE = "stock_not_tradable"
STOCK_HALTED = "stock_halted"
NO_QUOTE = "no_quote"
INSUFFICIENT_POSITION = "insufficient_position"


@dataclass(frozen=True)
class Placed:
    """What ``order_submit`` did: the order, and whether its client_order_id named one placed before."""

    order: Order
    replayed: bool


def _replay(existing: Order, request: OrderRequest, *, stock_id: int) -> Placed:
    if existing.stock_id != stock_id or not request.same_order(existing):
        raise ServiceError(
            CLIENT_ORDER_ID_CONFLICT,
            f"client_order_id {existing.client_order_id!r} was already used for a different order.",
            status=422,
        )
    return Placed(existing, replayed=True)


def order_place(*, user, **fields: Unpack[OrderFields]) -> Order:
    """``order_submit`` of the request these fields make (``OrderRequest.parse``); the order."""
    return order_submit(user=user, request=OrderRequest.parse(**fields)).order


def order_submit(*, user, request: OrderRequest) -> Placed:
    """Place an order for ``user`` and fill it at once if the current quote allows.

    Idempotent per ``client_order_id``: the same id with the same request
    returns the first order (``Placed.replayed`` is True); with a different
    request it is an error. A stock the user may not see is not found. Buy
    orders reserve cash, sell orders reserve shares, so open orders can never
    promise more than the account holds.
    """
    # A fresh id cannot have been used: no replay lookup for it (the unique constraint still holds).
    generated = request.client_order_id is None
    client_order_id = uuid.uuid4().hex if generated else request.client_order_id
    stock = selectors.stock_get(viewer=user, symbol=request.symbol)
    account_id = None
    try:
        with transaction.atomic():
            account = _lock_account_of(user)
            account_id = account.pk
            # Under the account lock, so concurrent replays of one id queue here.
            if not generated:
                existing = Order.objects.filter(account=account, client_order_id=client_order_id).first()
                if existing is not None:
                    return _replay(existing, request, stock_id=stock.pk)
            order = _place_locked(account=account, stock=stock, client_order_id=client_order_id, request=request)
            return Placed(order, replayed=False)
    except IntegrityError:
        # Only reachable if the unique constraint caught a replay the lock did not.
        if account_id is None:
            raise
        existing = Order.objects.filter(account_id=account_id, client_order_id=client_order_id).first()
        if existing is None:
            raise
        return _replay(existing, request, stock_id=stock.pk)


def _lock_account_of(user) -> Account:
    """Lock ``user``'s account, opening it first if they have none. Caller is in a transaction.

    One round trip when the account exists (the common case), where looking
    it up and then locking it by id took two.
    """
    account = Account.objects.select_for_update().filter(user=user).first()
    if account is None:
        account = lock_account(account_open(user=user).pk)
    return account


def _check_stock(stock, *, tradable: bool, halted: bool, price: Decimal | None, type: str) -> None:
    if not tradable:
        raise ServiceError(STOCK_NOT_TRADABLE, f"{stock.symbol} cannot be traded.", status=422)
    if halted:
        raise ServiceError(STOCK_HALTED, f"Trading in {stock.symbol} is halted.", status=422)
    if type == OrderType.MARKET and price is None:
        raise ServiceError(NO_QUOTE, f"{stock.symbol} has no price yet; use a limit order.", status=422)


def _buy_reserve(request: OrderRequest, *, price: Decimal | None) -> Decimal:
    """The cash a buy order holds back: at the quote for a market order, else at its limit (or stop)."""
    if request.type == OrderType.MARKET:
        return to_cents(request.quantity * price)
    bound = request.limit_price if request.limit_price is not None else request.stop_price
    return cents_up(request.quantity * bound)


def _check_buying_power(reserve: Decimal, account: Account) -> None:
    if reserve > account.buying_power:
        raise ServiceError(
            INSUFFICIENT_CASH,
            f"This order needs {money(reserve)} of buying power; the account has {money(account.buying_power)}.",
            status=422,
        )


def _check_shares(quantity: int, *, available: int, symbol: str) -> None:
    if quantity > available:
        raise ServiceError(
            INSUFFICIENT_POSITION,
            f"Cannot sell {quantity} {symbol}: {available} available (short selling is not allowed).",
            status=422,
        )


def _stock_state(stock) -> tuple[bool, bool, Decimal | None]:
    """``(tradable, halted, price)`` read fresh, in one round trip (price is None before the first quote)."""
    return Stock.objects.filter(pk=stock.pk).values_list("tradable", "halted", "quote__price").get()


def order_check(*, user, **fields: Unpack[OrderFields]) -> None:
    """``order_review`` of the request these fields make (``OrderRequest.parse``)."""
    order_review(user=user, request=OrderRequest.parse(**fields))


def order_review(*, user, request: OrderRequest) -> None:
    """Raise the ServiceError ``order_submit`` would raise for this request now, without placing it.

    For a review step: the same rules (tradable, halted, a quote for a market
    order, buying power for a buy, free shares for a sell), read without
    locks, so ``order_submit`` still checks again when the order is placed.
    """
    stock = selectors.stock_get(viewer=user, symbol=request.symbol)
    tradable, halted, price = _stock_state(stock)
    _check_stock(stock, tradable=tradable, halted=halted, price=price, type=request.type)
    account = account_open(user=user)
    if request.side == OrderSide.BUY:
        _check_buying_power(_buy_reserve(request, price=price), account)
    else:
        held = Position.objects.filter(account=account, stock=stock).values_list("quantity", "reserved_quantity")
        quantities = held.first() or (0, 0)
        _check_shares(request.quantity, available=quantities[0] - quantities[1], symbol=stock.symbol)


def _place_locked(*, account: Account, stock, client_order_id: str, request: OrderRequest) -> Order:
    # Read the flags under the lock: the stock may have been halted since it was looked up.
    stock.tradable, stock.halted, price = _stock_state(stock)
    _check_stock(stock, tradable=stock.tradable, halted=stock.halted, price=price, type=request.type)
    # A buy needs its position only if it fills now; execute_locked locks it then
    # (still after the account). A sell reserves shares, so it locks it here.
    position = None
    reserve = Decimal("0")
    if request.side == OrderSide.BUY:
        reserve = _buy_reserve(request, price=price)
        _check_buying_power(reserve, account)
        account.reserved += reserve
        account.save(update_fields=["reserved"])
    else:
        position = lock_position(account, stock.pk)
        _check_shares(request.quantity, available=position.quantity - position.reserved_quantity, symbol=stock.symbol)
        position.reserved_quantity += request.quantity
        position.save(update_fields=["reserved_quantity", "updated_at"])
    order = Order.objects.create(
        account=account,
        stock=stock,
        client_order_id=client_order_id,
        side=request.side,
        type=request.type,
        time_in_force=request.time_in_force,
        quantity=request.quantity,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        reserved_amount=reserve,
    )
    events.order_changed(order, symbol=stock.symbol, user_id=account.user_id)
    if price is not None:
        execute_locked(
            account=account, position=position, order=order, price=price, at=timezone.now(), symbol=stock.symbol
        )
    if order.status == OrderStatus.NEW:
        events.account_changed(account)
    return order


def _close(order_id: int, event: str, *, reason: str = "") -> Order:
    head = Order.objects.filter(pk=order_id).values("account_id", "stock_id").first()
    with transaction.atomic():
        account = lock_account(head["account_id"])
        position = lock_position(account, head["stock_id"])
        order = Order.objects.select_for_update().select_related("stock").get(pk=order_id)
        held = order.reserved_amount
        order_transition(order, event, reason=reason)
        if order.side == OrderSide.BUY:
            account.reserved -= held
            account.save(update_fields=["reserved"])
        else:
            position.reserved_quantity -= order.quantity
            position.save(update_fields=["reserved_quantity", "updated_at"])
        order.save()
        events.order_changed(order, symbol=order.stock.symbol, user_id=account.user_id)
        events.account_changed(account)
    return order


def order_cancel(*, user, order_id: int, reason: str = "By the owner.") -> Order:
    """Cancel ``user``'s open order and release what it held.

    Someone else's order is not found; a filled or closed order is an error.
    """
    order = selectors.order_get(viewer=user, order_id=order_id)
    return _close(order.pk, OrderEvent.CANCEL, reason=reason)


def orders_expire_day(*, submitted_before: datetime | None = None) -> int:
    """Expire open day orders submitted before ``submitted_before`` (default: now).

    Called at the end of the trading day. Each order is closed in its own short
    transaction; one that filled or was canceled meanwhile is left alone.
    Returns how many were expired.
    """
    cutoff = submitted_before or timezone.now()
    ids = list(
        Order.objects.filter(
            status=OrderStatus.NEW, time_in_force=TimeInForce.DAY, submitted_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    expired = 0
    for order_id in ids:
        try:
            _close(order_id, OrderEvent.EXPIRE, reason="A day order, at the end of the trading day.")
        except ServiceError:
            continue
        expired += 1
    return expired
