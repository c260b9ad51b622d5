"""Market data writes: quotes, bars, and trading halts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from trading import events
from trading.models import BarInterval, Order, OrderSide, OrderStatus, OrderType, PriceBar, Quote, Stock
from trading.services.common import clean_price
from trading.services.execution import order_execute


def _bar_start(at: datetime, interval: str) -> datetime:
    if interval == BarInterval.MINUTE:
        return at.replace(second=0, microsecond=0)
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def _update_bar(stock: Stock, interval: str, at: datetime, price: Decimal, volume: int) -> None:
    start = _bar_start(at, interval)
    bar = PriceBar.objects.select_for_update().filter(stock=stock, interval=interval, start=start).first()
    if bar is None:
        PriceBar.objects.create(
            stock=stock, interval=interval, start=start, open=price, high=price, low=price, close=price, volume=volume
        )
        return
    bar.high = max(bar.high, price)
    bar.low = min(bar.low, price)
    bar.close = price
    bar.volume += volume
    bar.save(update_fields=["high", "low", "close", "volume"])


def crossed_orders(stock: Stock, price: Decimal) -> list[int]:
    """Ids of open orders of ``stock`` that ``price`` fills or triggers, oldest first."""
    buy, sell = Q(side=OrderSide.BUY), Q(side=OrderSide.SELL)
    limit_cross = (buy & Q(limit_price__gte=price)) | (sell & Q(limit_price__lte=price))
    stop_cross = (buy & Q(stop_price__lte=price)) | (sell & Q(stop_price__gte=price))
    condition = (
        (Q(type=OrderType.LIMIT) & limit_cross)
        | (Q(type=OrderType.STOP) & stop_cross)
        | (Q(type=OrderType.STOP_LIMIT, triggered_at__isnull=True) & stop_cross)
        | (Q(type=OrderType.STOP_LIMIT, triggered_at__isnull=False) & limit_cross)
    )
    return list(
        Order.objects.filter(condition, stock=stock, status=OrderStatus.NEW).order_by("pk").values_list("pk", flat=True)
    )


def quote_record(*, stock: Stock, price: Decimal | str, at: datetime, volume: int = 0) -> Quote:
    """Record a price tick: the latest quote, the current 1-minute and 1-day bars, then execution.

    The market feed calls this for every tick. The quote and bars commit first;
    each crossed order then fills in its own short transaction, so a busy
    stock never holds many accounts locked at once. A halted stock records its
    price but executes nothing.
    """
    price = clean_price(price)
    with transaction.atomic():
        quote = Quote.objects.select_for_update().filter(stock=stock).first()
        if quote is None:
            last_close = (
                PriceBar.objects.filter(stock=stock, interval=BarInterval.DAY, start__lt=_bar_start(at, "1d"))
                .order_by("-start")
                .values_list("close", flat=True)
                .first()
            )
            quote = Quote.objects.create(stock=stock, price=price, previous_close=last_close or price, updated_at=at)
        else:
            if at.date() > quote.updated_at.date():
                quote.previous_close = quote.price
            quote.price = price
            quote.updated_at = max(at, quote.updated_at)
            quote.save()
        _update_bar(stock, BarInterval.MINUTE, at, price, volume)
        _update_bar(stock, BarInterval.DAY, at, price, volume)
        events.quote_recorded(quote, symbol=stock.symbol)
    # Read the flags again: the caller's object may predate a halt.
    if Stock.objects.filter(pk=stock.pk, halted=False, tradable=True).exists():
        for order_id in crossed_orders(stock, price):
            order_execute(order_id=order_id, price=price, at=at)
    return quote


def stock_set_halted(*, stock: Stock, halted: bool) -> Stock:
    """Halt or resume trading. Open orders stay open and do not execute while halted."""
    Stock.objects.filter(pk=stock.pk).update(halted=halted)
    stock.halted = halted
    return stock
