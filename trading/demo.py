"""Demo market for `make run`: fictional companies, a year of daily bars, recent minute bars.

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

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.demo import DEMO_ADMIN, DEMO_TRADERS
from trading import services
from trading.market.simulator import minute_volatility
from trading.models import BarInterval, Company, Order, PriceBar, Quote, Stock

PREMIUM_GROUP = "premium"
PRICE_STEP = Decimal("0.0001")
DAILY_BARS_DAYS = 365
MINUTE_BARS = 120


@dataclass(frozen=True)
class DemoCompany:
    symbol: str
    name: str
    sector: str
    price: float
    volatility: float  # annualised
    description: str
    premium: bool = False


DEMO_COMPANIES = (
    DemoCompany("ACME", "Acme Anvil Works", "Industrials", 84.0, 0.25, "Drop-forged anvils and precision hoists."),
    DemoCompany("BRCK", "Brickfield Homes", "Real Estate", 41.5, 0.28, "Builds starter homes in new suburbs."),
    DemoCompany("CLDW", "Cloudwise Software", "Technology", 212.0, 0.38, "Planning software for cloud budgets."),
    DemoCompany("DLTA", "Delta Freight Lines", "Industrials", 57.2, 0.30, "Rail and road freight across the plains."),
    DemoCompany("EVRG", "Evergreen Power", "Utilities", 33.8, 0.16, "Wind and hydro power for three states."),
    DemoCompany("FRSH", "Fresh Basket Markets", "Consumer Staples", 26.4, 0.20, "Neighbourhood grocery stores."),
    DemoCompany("GLDN", "Golden Grain Foods", "Consumer Staples", 63.1, 0.18, "Breakfast cereals and baking flour."),
    DemoCompany("HLIX", "Helix Therapeutics", "Health Care", 118.0, 0.55, "Gene therapies for rare diseases."),
    DemoCompany("IRON", "Ironclad Security", "Technology", 74.9, 0.42, "Network security appliances."),
    DemoCompany("JETS", "Jetstream Airways", "Industrials", 18.7, 0.45, "A low-cost regional airline."),
    DemoCompany("KITE", "Kite Outdoor Gear", "Consumer Discretionary", 45.6, 0.33, "Tents, packs and kites."),
    DemoCompany("LUMN", "Lumen Optics", "Technology", 152.3, 0.40, "Lasers and lenses for chip makers."),
    DemoCompany("MDWS", "Meadows Dairy", "Consumer Staples", 22.1, 0.17, "A dairy cooperative's listed arm."),
    DemoCompany("NOVA", "Nova Motors", "Consumer Discretionary", 96.4, 0.60, "Electric city cars and scooters."),
    DemoCompany("OCNS", "Oceanside Shipping", "Industrials", 29.9, 0.35, "Container ships on Pacific routes."),
    DemoCompany("PIXL", "Pixel Studios", "Communication Services", 67.3, 0.48, "Animated films and games."),
    DemoCompany("QRRY", "Quarry Materials", "Materials", 38.6, 0.27, "Gravel, sand and cement."),
    DemoCompany("RIVR", "Riverbank Financial", "Financials", 52.0, 0.24, "A regional bank with 300 branches."),
    DemoCompany("SOLR", "Solaris Panels", "Energy", 14.2, 0.58, "Rooftop solar panels and batteries."),
    DemoCompany("TIDE", "Tidewater Utilities", "Utilities", 47.5, 0.15, "Water and wastewater services."),
    DemoCompany("UMBR", "Umbrella Insurance", "Financials", 88.8, 0.22, "Home and car insurance."),
    DemoCompany("VRTX", "Vertex Robotics", "Technology", 134.7, 0.50, "Warehouse robots."),
    DemoCompany("WAVE", "Wave Telecom", "Communication Services", 19.3, 0.21, "Mobile and fibre broadband."),
    DemoCompany("XTAL", "Crystal Semiconductors", "Technology", 241.0, 0.52, "Power chips for electric cars."),
    DemoCompany("YARN", "Yarnspinner Apparel", "Consumer Discretionary", 31.2, 0.31, "Knitwear and socks."),
    DemoCompany("ZEST", "Zest Beverages", "Consumer Staples", 55.0, 0.19, "Sparkling juices and iced teas."),
    DemoCompany("ATLS", "Atlas Mining", "Materials", 71.4, 0.44, "Copper and lithium mines."),
    DemoCompany("BEAM", "Beam Medical Devices", "Health Care", 103.5, 0.29, "Imaging scanners for clinics."),
    DemoCompany("CRUX", "Crux Oil & Gas", "Energy", 61.7, 0.37, "Natural gas wells and pipelines."),
    DemoCompany("DOCK", "Dockside REIT", "Real Estate", 24.8, 0.23, "Warehouses near ports."),
    DemoCompany(
        "QNTM", "Quantum Lattice", "Technology", 318.0, 0.70, "Quantum computers for research labs.", premium=True
    ),
    DemoCompany("ORBT", "Orbital Launch", "Industrials", 142.0, 0.65, "Small-satellite launches.", premium=True),
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


def demo_bars(company: DemoCompany, stock: Stock, now: datetime) -> list[PriceBar]:
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
    premium, _ = Group.objects.get_or_create(name=PREMIUM_GROUP)
    existing = set(Stock.objects.values_list("symbol", flat=True))
    new = [c for c in DEMO_COMPANIES if c.symbol not in existing]
    if not new:
        return
    bars: list[PriceBar] = []
    quotes: list[Quote] = []
    for demo in new:
        company, _ = Company.objects.get_or_create(
            name=demo.name,
            defaults={
                "sector": demo.sector,
                "description": demo.description,
                "website": f"https://{demo.symbol.lower()}.example.com",
            },
        )
        stock = Stock.objects.create(symbol=demo.symbol, company=company, exchange="XSIM", currency="USD")
        if demo.premium:
            stock.visible_to_groups.add(premium)
        stock_bars = demo_bars(demo, stock, now)
        bars.extend(stock_bars)
        daily = [b for b in stock_bars if b.interval == BarInterval.DAY and b.start < stock_bars[-1].start]
        last = stock_bars[-1]
        previous_close = daily[-1].close if daily else last.open
        quotes.append(Quote(stock=stock, price=last.close, previous_close=previous_close, updated_at=now))
    PriceBar.objects.bulk_create(bars, batch_size=2000)
    Quote.objects.bulk_create(quotes)
    log(f"created {len(new)} stocks with {len(bars)} price bars ({PREMIUM_GROUP!r} group sees QNTM and ORBT)")


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
        people["alice"].groups.add(Group.objects.get(name=PREMIUM_GROUP))
    for username, client_order_id, symbol, side, type_, quantity, fraction in DEMO_ORDERS:
        if username not in people or Order.objects.filter(client_order_id=client_order_id).exists():
            continue
        limit = None
        if fraction is not None:
            limit = (Quote.objects.get(stock__symbol=symbol).price * fraction).quantize(Decimal("0.01"))
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
