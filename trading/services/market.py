"""Market data writes: quotes, bars, and trading halts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, DecimalField, Expression, F, OuterRef, Q, Subquery, Value, When

from core.money import clean_price
from trading import events
from trading.models import PRICE, BarInterval, Order, OrderSide, OrderStatus, OrderType, PriceBar, Quote, Stock
from trading.services.alerts import alerts_fire
from trading.services.execution import order_execute


def _bar_start(at: datetime, interval: str) -> datetime:
    if interval == BarInterval.MINUTE:
        return at.replace(second=0, microsecond=0)
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class PriceTick:
    """One stock's new price (and traded volume) in a batch for ``quotes_record``."""

    stock: Stock
    price: Decimal | str
    volume: int = 0


def _cross_condition(price: Expression | Decimal) -> Q:
    """Open orders that ``price`` fills or triggers (stop-limits: triggers, then fills)."""
    buy, sell = Q(side=OrderSide.BUY), Q(side=OrderSide.SELL)
    limit_cross = (buy & Q(limit_price__gte=price)) | (sell & Q(limit_price__lte=price))
    stop_cross = (buy & Q(stop_price__lte=price)) | (sell & Q(stop_price__gte=price))
    return (
        (Q(type=OrderType.LIMIT) & limit_cross)
        | (Q(type=OrderType.STOP) & stop_cross)
        | (Q(type=OrderType.STOP_LIMIT, triggered_at__isnull=True) & stop_cross)
        | (Q(type=OrderType.STOP_LIMIT, triggered_at__isnull=False) & limit_cross)
    )


def crossed_orders(prices: Mapping[int, Decimal]) -> dict[int, list[int]]:
    """Ids of open orders that each stock's price fills or triggers, oldest first, by stock id.

    One query for every stock: each order is compared with its own stock's
    price, given per stock id in a CASE.
    """
    if not prices:
        return {}
    tick_price = Case(
        *(When(stock_id=stock_id, then=Value(price)) for stock_id, price in prices.items()),
        output_field=DecimalField(**PRICE),
    )
    rows = (
        Order.objects.filter(stock_id__in=list(prices), status=OrderStatus.NEW)
        .alias(tick_price=tick_price)
        .filter(_cross_condition(F("tick_price")))
        .order_by("pk")
        .values_list("stock_id", "pk")
    )
    crossed: dict[int, list[int]] = {stock_id: [] for stock_id in prices}
    for stock_id, order_id in rows:
        crossed[stock_id].append(order_id)
    return crossed


def _record_quotes(ticks: list[tuple[Stock, Decimal, int]], at: datetime) -> list[Quote]:
    """Write the quotes and bars of ``ticks`` in a fixed number of queries. Caller is in a transaction."""
    stock_ids = [stock.pk for stock, _, _ in ticks]
    # Quote rows are locked in primary-key order, so two batches never wait on each other in a cycle.
    quotes = {
        quote.stock_id: quote
        for quote in Quote.objects.select_for_update().filter(stock_id__in=stock_ids).order_by("stock_id")
    }
    day_start = _bar_start(at, BarInterval.DAY)
    missing = [stock_id for stock_id in stock_ids if stock_id not in quotes]
    last_closes: dict[int, Decimal | None] = {}
    if missing:
        last_close = (
            PriceBar.objects.filter(stock=OuterRef("pk"), interval=BarInterval.DAY, start__lt=day_start)
            .order_by("-start")
            .values("close")[:1]
        )
        with_close = Stock.objects.filter(pk__in=missing).annotate(last_close=Subquery(last_close))
        last_closes = dict(with_close.values_list("pk", "last_close"))
    created, changed = [], []
    for stock, price, _ in ticks:
        quote = quotes.get(stock.pk)
        if quote is None:
            quote = Quote(stock=stock, price=price, previous_close=last_closes.get(stock.pk) or price, updated_at=at)
            created.append(quote)
        else:
            if at.date() > quote.updated_at.date():
                quote.previous_close = quote.price
            quote.price = price
            quote.updated_at = max(at, quote.updated_at)
            changed.append(quote)
        quotes[stock.pk] = quote
    Quote.objects.bulk_create(created)
    Quote.objects.bulk_update(changed, ["price", "previous_close", "updated_at"])

    starts = {BarInterval.MINUTE: _bar_start(at, BarInterval.MINUTE), BarInterval.DAY: day_start}
    bars = {
        (bar.stock_id, bar.interval): bar
        for bar in PriceBar.objects.select_for_update()
        .filter(
            Q(interval=BarInterval.MINUTE, start=starts[BarInterval.MINUTE])
            | Q(interval=BarInterval.DAY, start=starts[BarInterval.DAY]),
            stock_id__in=stock_ids,
        )
        .order_by("pk")
    }
    new_bars, moved_bars = [], []
    for stock, price, volume in ticks:
        for interval, start in starts.items():
            bar = bars.get((stock.pk, interval))
            if bar is None:
                new_bars.append(
                    PriceBar(
                        stock=stock,
                        interval=interval,
                        start=start,
                        open=price,
                        high=price,
                        low=price,
                        close=price,
                        volume=volume,
                    )
                )
                continue
            bar.high = max(bar.high, price)
            bar.low = min(bar.low, price)
            bar.close = price
            bar.volume += volume
            moved_bars.append(bar)
    PriceBar.objects.bulk_create(new_bars)
    PriceBar.objects.bulk_update(moved_bars, ["high", "low", "close", "volume"])
    return [quotes[stock_id] for stock_id in stock_ids]


def quotes_record(*, ticks: Sequence[PriceTick], at: datetime) -> list[Quote]:
    """Record one price tick per stock: the latest quotes, the current 1-minute and 1-day bars, then execution.

    The market feed calls this once per step for every stock. The quotes and
    bars of all stocks commit together in a fixed number of queries, whatever
    the number of stocks, and their events go out together after the commit.
    Each crossed order then fills in its own short transaction, so a busy
    stock never holds many accounts locked at once. A halted stock records its
    price but executes nothing.
    """
    cleaned = [(tick.stock, clean_price(tick.price), tick.volume) for tick in ticks]
    if len({stock.pk for stock, _, _ in cleaned}) != len(cleaned):
        raise ValueError("quotes_record takes at most one tick per stock")
    if not cleaned:
        return []
    with transaction.atomic():
        quotes = _record_quotes(cleaned, at)
        recorded = [(quote, stock.symbol) for quote, (stock, _, _) in zip(quotes, cleaned, strict=True)]
        events.quotes_recorded(recorded)
        alerts_fire(quotes=recorded, at=at)
    # Read the flags again: the caller's objects may predate a halt.
    live = set(
        Stock.objects.filter(pk__in=[stock.pk for stock, _, _ in cleaned], halted=False, tradable=True).values_list(
            "pk", flat=True
        )
    )
    prices = {stock.pk: price for stock, price, _ in cleaned if stock.pk in live}
    for stock_id, order_ids in crossed_orders(prices).items():
        for order_id in order_ids:
            order_execute(order_id=order_id, price=prices[stock_id], at=at)
    return quotes


def quote_record(*, stock: Stock, price: Decimal | str, at: datetime, volume: int = 0) -> Quote:
    """Record a price tick of one stock (``quotes_record`` with one tick)."""
    return quotes_record(ticks=[PriceTick(stock=stock, price=price, volume=volume)], at=at)[0]


def stock_set_halted(*, stock: Stock, halted: bool) -> Stock:
    """Halt or resume trading. Open orders stay open and do not execute while halted."""
    Stock.objects.filter(pk=stock.pk).update(halted=halted)
    stock.halted = halted
    return stock
