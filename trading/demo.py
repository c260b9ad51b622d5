"""Demo market for `make run`: fictional companies, a year of daily bars, recent minute bars.

The companies are ``trading/data/listing.csv``, imported with the same service
as ``manage.py import_assets``; this module adds their simulated prices.

Prices are a seeded random walk per stock, so every load produces the same
series (anchored at the day it is loaded). Rows are bulk-inserted so loading
stays quick. Loading again leaves existing stocks and accounts as they are.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.demo import DEMO_ADMIN, DEMO_TRADERS
from core.money import PRICE_STEP, to_cents
from trading import services
from trading.formats.listing import ListingFileError, read_listing_file
from trading.market.simulator import minute_volatility
from trading.models import BarInterval, Order, PriceBar, Quote, Stock

LISTING_FILE = Path(__file__).resolve().parent / "data" / "listing.csv"
PREMIUM_GROUP = "premium"  # the listing file's ``restricted`` group for QNTM and ORBT
DAILY_BARS_DAYS = 365
MINUTE_BARS = 120


@dataclass(frozen=True)
class DemoSeries:
    """Where a demo stock's simulated history starts and how much it moves."""

    symbol: str
    price: float
    volatility: float  # annualised


# The companies themselves (names, sectors, who may see them) are the listing file, imported
# as a production site imports its own; these are only the seeds of their simulated prices.
DEMO_COMPANIES = (
    DemoSeries("ACME", 84.0, 0.25),
    DemoSeries("BRCK", 41.5, 0.28),
    DemoSeries("CLDW", 212.0, 0.38),
    DemoSeries("DLTA", 57.2, 0.30),
    DemoSeries("EVRG", 33.8, 0.16),
    DemoSeries("FRSH", 26.4, 0.20),
    DemoSeries("GLDN", 63.1, 0.18),
    DemoSeries("HLIX", 118.0, 0.55),
    DemoSeries("IRON", 74.9, 0.42),
    DemoSeries("JETS", 18.7, 0.45),
    DemoSeries("KITE", 45.6, 0.33),
    DemoSeries("LUMN", 152.3, 0.40),
    DemoSeries("MDWS", 22.1, 0.17),
    DemoSeries("NOVA", 96.4, 0.60),
    DemoSeries("OCNS", 29.9, 0.35),
    DemoSeries("PIXL", 67.3, 0.48),
    DemoSeries("QRRY", 38.6, 0.27),
    DemoSeries("RIVR", 52.0, 0.24),
    DemoSeries("SOLR", 14.2, 0.58),
    DemoSeries("TIDE", 47.5, 0.15),
    DemoSeries("UMBR", 88.8, 0.22),
    DemoSeries("VRTX", 134.7, 0.50),
    DemoSeries("WAVE", 19.3, 0.21),
    DemoSeries("XTAL", 241.0, 0.52),
    DemoSeries("YARN", 31.2, 0.31),
    DemoSeries("ZEST", 55.0, 0.19),
    DemoSeries("ATLS", 71.4, 0.44),
    DemoSeries("BEAM", 103.5, 0.29),
    DemoSeries("CRUX", 61.7, 0.37),
    DemoSeries("DOCK", 24.8, 0.23),
    DemoSeries("QNTM", 318.0, 0.70),
    DemoSeries("ORBT", 142.0, 0.65),
)

DEMO_ORDERS = (
    # (username, client_order_id, symbol, side, type, quantity, limit price as a fraction of the quote)
    ("alice", "demo-alice-1", "CLDW", "buy", "market", 20, None),
    ("alice", "demo-alice-2", "EVRG", "buy", "market", 150, None),
    # A limit order 20% below the market, so it rests.
    ("alice", "demo-alice-3", "NOVA", "buy", "limit", 10, Decimal("0.8")),
    ("bob", "demo-bob-1", "ACME", "buy", "market", 40, None),
    ("bob", "demo-bob-2", "XTAL", "buy", "market", 8, None),
)


def _price(value: float) -> Decimal:
    return Decimal(str(value)).quantize(PRICE_STEP)


def _bar(rng: random.Random, open_: float, close: float, spread: float) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    o, c = _price(open_), _price(close)
    high = max(_price(max(open_, close) * (1 + abs(rng.gauss(0, spread)))), o, c)
    low = min(_price(min(open_, close) * (1 - abs(rng.gauss(0, spread)))), o, c)
    return o, high, low, c


def demo_bars(company: DemoSeries, stock: Stock, now: datetime) -> list[PriceBar]:
    """A year of weekday daily bars ending yesterday, then minute bars up to ``now``."""
    rng = random.Random(f"stockchat-demo-{company.symbol}")  # noqa: S311 (a seeded, repeatable walk)
    daily_sigma = company.volatility / math.sqrt(252)
    # Drawn as the live feed will draw its ticks (same volatility, same time scale): no seam.
    minute_sigma = minute_volatility(company.volatility, settings.STOCKCHAT_MARKET_TIME_SCALE)
    bars: list[PriceBar] = []
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    price = company.price
    day = today - timedelta(days=DAILY_BARS_DAYS)
    while day < today:
        if day.weekday() < 5:
            open_ = price * (1 + rng.gauss(0, daily_sigma / 4))
            price = max(0.5, open_ * math.exp(rng.gauss(0.0002, daily_sigma)))
            o, h, low, c = _bar(rng, open_, price, daily_sigma / 2)
            volume = int(rng.lognormvariate(13, 0.5))
            bars.append(
                PriceBar(
                    stock=stock, interval=BarInterval.DAY, start=day, open=o, high=h, low=low, close=c, volume=volume
                )
            )
        day += timedelta(days=1)
    minute = now.replace(second=0, microsecond=0) - timedelta(minutes=MINUTE_BARS - 1)
    minute = max(minute, today)
    day_open, day_high, day_low, day_volume = None, None, None, 0
    while minute <= now:
        open_ = price
        price = max(0.5, open_ * math.exp(rng.gauss(0, minute_sigma)))
        o, h, low, c = _bar(rng, open_, price, minute_sigma / 2)
        volume = int(rng.lognormvariate(8, 0.7))
        bars.append(
            PriceBar(
                stock=stock, interval=BarInterval.MINUTE, start=minute, open=o, high=h, low=low, close=c, volume=volume
            )
        )
        day_open = day_open or o
        day_high = h if day_high is None else max(day_high, h)
        day_low = low if day_low is None else min(day_low, low)
        day_volume += volume
        minute += timedelta(minutes=1)
    if day_open is not None:
        bars.append(
            PriceBar(
                stock=stock,
                interval=BarInterval.DAY,
                start=today,
                open=day_open,
                high=day_high,
                low=day_low,
                close=bars[-1].close,
                volume=day_volume,
            )
        )
    return bars


@transaction.atomic
def _load_market(log, now: datetime) -> None:
    rows, errors = read_listing_file(LISTING_FILE)
    if errors:
        raise ListingFileError(LISTING_FILE, errors)
    existing = set(Stock.objects.values_list("symbol", flat=True))
    # Stocks already listed stay as they are (an admin may have changed them since).
    new_rows = [row for row in rows if row.symbol not in existing]
    if not new_rows:
        return
    services.listing_import(rows=new_rows, path=str(LISTING_FILE))
    series = {demo.symbol: demo for demo in DEMO_COMPANIES}
    bars: list[PriceBar] = []
    quotes: list[Quote] = []
    for stock in Stock.objects.filter(symbol__in=[row.symbol for row in new_rows]):
        stock_bars = demo_bars(series[stock.symbol], stock, now)
        bars.extend(stock_bars)
        daily = [b for b in stock_bars if b.interval == BarInterval.DAY and b.start < stock_bars[-1].start]
        last = stock_bars[-1]
        previous_close = daily[-1].close if daily else last.open
        quotes.append(Quote(stock=stock, price=last.close, previous_close=previous_close, updated_at=now))
    PriceBar.objects.bulk_create(bars, batch_size=2000)
    Quote.objects.bulk_create(quotes)
    log(f"created {len(new_rows)} stocks with {len(bars)} price bars ({PREMIUM_GROUP!r} group sees QNTM and ORBT)")


def load_demo(log) -> None:
    """Market data, then an account per demo person and a few filled and open orders."""
    _load_market(log, timezone.now().astimezone(UTC))
    User = get_user_model()
    people = {
        u.username: u for u in User.objects.filter(username__in=[p.username for p in (DEMO_ADMIN, *DEMO_TRADERS)])
    }
    for user in people.values():
        services.account_open(user=user)
    if "alice" in people:
        people["alice"].groups.add(Group.objects.get_or_create(name=PREMIUM_GROUP)[0])
    for username, client_order_id, symbol, side, type_, quantity, fraction in DEMO_ORDERS:
        if username not in people or Order.objects.filter(client_order_id=client_order_id).exists():
            continue
        limit = None
        if fraction is not None:
            limit = to_cents(Quote.objects.get(stock__symbol=symbol).price * fraction)
        order = services.order_place(
            user=people[username],
            client_order_id=client_order_id,
            symbol=symbol,
            side=side,
            type=type_,
            time_in_force="gtc",
            quantity=quantity,
            limit_price=limit,
        )
        log(f"{username}: {order}")
