"""Placing, cancelling and expiring orders."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ServiceError
from core.money import cents_up, to_cents
from trading import events, selectors
from trading.models import Account, Order, OrderSide, OrderStatus, OrderType, Position, Stock, TimeInForce
from trading.services.accounts import INSUFFICIENT_CASH, account_open
from trading.services.common import MAX_ORDER_QUANTITY, clean_price, lock_account, lock_position
from trading.services.execution import execute_locked
from trading.services.lifecycle import OrderEvent, order_transition
from trading.templatetags.market_format import money

INVALID_ORDER = "invalid_order"
INVALID_QUANTITY = "invalid_quantity"
INVALID_CLIENT_ORDER_ID = "invalid_client_order_id"
CLIENT_ORDER_ID_CONFLICT = "client_order_id_conflict"
STOCK_NOT_TRADABLE = "stock_not_tradable"
STOCK_HALTED = "stock_halted"
NO_QUOTE = "no_quote"
INSUFFICIENT_POSITION = "insufficient_position"

CLIENT_ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def _clean_request(
    *, side: str, type: str, time_in_force: str, quantity: object, limit_price: object, stop_price: object
) -> tuple[int, Decimal | None, Decimal | None]:
    if side not in OrderSide.values:
        raise ServiceError(INVALID_ORDER, f"side must be one of {', '.join(OrderSide.values)}.")
    if type not in OrderType.values:
        raise ServiceError(INVALID_ORDER, f"type must be one of {', '.join(OrderType.values)}.")
    if time_in_force not in TimeInForce.values:
        raise ServiceError(INVALID_ORDER, f"time_in_force must be one of {', '.join(TimeInForce.values)}.")
    if isinstance(quantity, bool) or not isinstance(quantity, int | str):
        raise ServiceError(INVALID_QUANTITY, "quantity must be a whole number of shares.")
    try:
        qty = int(quantity)
    except ValueError:
        raise ServiceError(INVALID_QUANTITY, "quantity must be a whole number of shares.") from None
    if not 1 <= qty <= MAX_ORDER_QUANTITY:
        raise ServiceError(INVALID_QUANTITY, f"quantity must be between 1 and {MAX_ORDER_QUANTITY} shares.")
    needs_limit = type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_stop = type in (OrderType.STOP, OrderType.STOP_LIMIT)
    if needs_limit and limit_price is None:
        raise ServiceError(INVALID_ORDER, f"A {type} order needs a limit_price.")
    if not needs_limit and limit_price is not None:
        raise ServiceError(INVALID_ORDER, f"A {type} order takes no limit_price.")
    if needs_stop and stop_price is None:
        raise ServiceError(INVALID_ORDER, f"A {type} order needs a stop_price.")
    if not needs_stop and stop_price is not None:
        raise ServiceError(INVALID_ORDER, f"A {type} order takes no stop_price.")
    limit = clean_price(limit_price, what="limit_price") if needs_limit else None
    stop = clean_price(stop_price, what="stop_price") if needs_stop else None
    return qty, limit, stop


def _same_request(order: Order, *, stock_id: int, side, type, time_in_force, quantity, limit, stop) -> bool:
    return (order.stock_id, order.side, order.type, order.time_in_force, order.quantity) == (
        stock_id,
        side,
        type,
        time_in_force,
        quantity,
    ) and (order.limit_price, order.stop_price) == (limit, stop)


def _replay(existing: Order, **request) -> Order:
    if not _same_request(existing, **request):
        raise ServiceError(
            CLIENT_ORDER_ID_CONFLICT,
            f"client_order_id {existing.client_order_id!r} was already used for a different order.",
            status=422,
        )
    existing.was_replayed = True
    return existing


def order_place(
    *,
    user,
    symbol: str,
    side: str,
    type: str = OrderType.MARKET,
    time_in_force: str = TimeInForce.DAY,
    quantity: int | str,
    limit_price: Decimal | str | None = None,
    stop_price: Decimal | str | None = None,
    client_order_id: str | None = None,
) -> Order:
    """Place an order for ``user`` and fill it at once if the current quote allows.

    Idempotent per ``client_order_id``: the same id with the same request
    returns the first order (with ``was_replayed`` set to True); with a
    different request it is an error. A stock the user may not see is
    not found. Buy orders reserve cash, sell orders reserve shares, so open
    orders can never promise more than the account holds.
    """
    quantity, limit, stop = _clean_request(
        side=side,
        type=type,
        time_in_force=time_in_force,
        quantity=quantity,
        limit_price=limit_price,
        stop_price=stop_price,
    )
    # A fresh id cannot have been used: no replay lookup for it (the unique constraint still holds).
    generated = client_order_id is None or client_order_id == ""
    if generated:
        client_order_id = uuid.uuid4().hex
    elif not isinstance(client_order_id, str) or not CLIENT_ORDER_ID_PATTERN.match(client_order_id):
        raise ServiceError(
            INVALID_CLIENT_ORDER_ID, "client_order_id must be 1-64 letters, digits, '.', '_', ':' or '-'."
        )
    stock = selectors.stock_get(viewer=user, symbol=symbol)
    account_id = None
    request = {
        "stock_id": stock.pk,
        "side": side,
        "type": type,
        "time_in_force": time_in_force,
        "quantity": quantity,
        "limit": limit,
        "stop": stop,
    }
    try:
        with transaction.atomic():
            account = _lock_account_of(user)
            account_id = account.pk
            # Under the account lock, so concurrent replays of one id queue here.
            if not generated:
                existing = Order.objects.filter(account=account, client_order_id=client_order_id).first()
                if existing is not None:
                    return _replay(existing, **request)
            return _place_locked(account=account, stock=stock, client_order_id=client_order_id, **request)
    except IntegrityError:
        # Only reachable if the unique constraint caught a replay the lock did not.
        if account_id is None:
            raise
        existing = Order.objects.filter(account_id=account_id, client_order_id=client_order_id).first()
        if existing is None:
            raise
        return _replay(existing, **request)


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


def _buy_reserve(*, type: str, quantity: int, price: Decimal | None, limit, stop) -> Decimal:
    """The cash a buy order holds back: at the quote for a market order, else at its limit (or stop)."""
    if type == OrderType.MARKET:
        return to_cents(quantity * price)
    return cents_up(quantity * (limit if limit is not None else stop))


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


def order_check(
    *,
    user,
    symbol: str,
    side: str,
    type: str = OrderType.MARKET,
    time_in_force: str = TimeInForce.DAY,
    quantity: int | str,
    limit_price: Decimal | str | None = None,
    stop_price: Decimal | str | None = None,
) -> None:
    """Raise the ServiceError ``order_place`` would raise for this order now, without placing it.

    For a review step: the same rules (tradable, halted, a quote for a market
    order, buying power for a buy, free shares for a sell), read without
    locks, so ``order_place`` still checks again when the order is placed.
    """
    quantity, limit, stop = _clean_request(
        side=side,
        type=type,
        time_in_force=time_in_force,
        quantity=quantity,
        limit_price=limit_price,
        stop_price=stop_price,
    )
    stock = selectors.stock_get(viewer=user, symbol=symbol)
    tradable, halted, price = _stock_state(stock)
    _check_stock(stock, tradable=tradable, halted=halted, price=price, type=type)
    account = account_open(user=user)
    if side == OrderSide.BUY:
        reserve = _buy_reserve(type=type, quantity=quantity, price=price, limit=limit, stop=stop)
        _check_buying_power(reserve, account)
    else:
        held = Position.objects.filter(account=account, stock=stock).values_list("quantity", "reserved_quantity")
        quantities = held.first() or (0, 0)
        _check_shares(quantity, available=quantities[0] - quantities[1], symbol=stock.symbol)


def _place_locked(
    *, account: Account, stock, client_order_id: str, stock_id, side, type, time_in_force, quantity, limit, stop
) -> Order:
    # Read the flags under the lock: the stock may have been halted since it was looked up.
    stock.tradable, stock.halted, price = _stock_state(stock)
    _check_stock(stock, tradable=stock.tradable, halted=stock.halted, price=price, type=type)
    # A buy needs its position only if it fills now; execute_locked locks it then
    # (still after the account). A sell reserves shares, so it locks it here.
    position = None
    reserve = Decimal("0")
    if side == OrderSide.BUY:
        reserve = _buy_reserve(type=type, quantity=quantity, price=price, limit=limit, stop=stop)
        _check_buying_power(reserve, account)
        account.reserved += reserve
        account.save(update_fields=["reserved"])
    else:
        position = lock_position(account, stock.pk)
        _check_shares(quantity, available=position.quantity - position.reserved_quantity, symbol=stock.symbol)
        position.reserved_quantity += quantity
        position.save(update_fields=["reserved_quantity", "updated_at"])
    order = Order.objects.create(
        account=account,
        stock=stock,
        client_order_id=client_order_id,
        side=side,
        type=type,
        time_in_force=time_in_force,
        quantity=quantity,
        limit_price=limit,
        stop_price=stop,
        reserved_amount=reserve,
    )
    order.was_replayed = False
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
