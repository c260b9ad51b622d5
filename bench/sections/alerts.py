"""Price alerts: the cost of a feed tick with many armed alerts against the same tick without them."""

from __future__ import annotations

import statistics
import time

from bench import harness
from bench.common import (
    bench_users,
    ratio,
    verdict,
)

ALERT_STOCKS = 32


def _alert_tick_ms(stocks, ticks: int, start_minute: int) -> float:
    """Median wall time of ``quotes_record`` over ``ticks`` ticks of every stock (prices wiggle by a cent)."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from trading.services import PriceTick, quotes_record

    base = datetime(2030, 1, 2, 15, 0, tzinfo=UTC)
    times = []
    for n in range(ticks):
        price = Decimal("100.00") + Decimal(n % 2) / 100
        batch = [PriceTick(stock=stock, price=price) for stock in stocks]
        started = time.perf_counter()
        quotes_record(ticks=batch, at=base + timedelta(seconds=start_minute * 60 + n))
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def alerts_section(stack: harness.Stack, args) -> dict:
    from decimal import Decimal

    from trading.models import Company, PriceAlert, Stock

    users, _ = bench_users(100)
    stocks = []
    for n in range(ALERT_STOCKS):
        company = Company.objects.create(name=f"Alert bench {n}")
        stocks.append(Stock.objects.create(symbol=f"ALB{n:02d}", company=company))
    ticks = 10 if args.quick else args.alert_ticks
    figures = {"none": _alert_tick_ms(stocks, ticks, 0)}
    # 10,000 armed alerts that no tick meets: the price of evaluating them every tick.
    PriceAlert.objects.bulk_create(
        PriceAlert(
            user=users[n % len(users)],
            stock=stocks[n % ALERT_STOCKS],
            condition=("above", "below", "day_move")[n % 3],
            threshold=(Decimal("200") + n % 50, Decimal("50") - n % 40, Decimal("50"))[n % 3],
        )
        for n in range(args.alerts)
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    figures["armed"] = _alert_tick_ms(stocks, ticks, 10)
    harness.close_db()
    return {**figures, "alerts": args.alerts, "stocks": ALERT_STOCKS, "ticks": ticks}


def alerts_report(figures: dict, args) -> list[str]:
    none, armed = figures["none"], figures["armed"]
    return [
        "## Price alerts: the cost of a tick",
        "",
        f"`quotes_record` of {figures['stocks']} stocks, median of {figures['ticks']} ticks, in-process on "
        f"PostgreSQL: with no alerts, then with {figures['alerts']:,} armed alerts (above, below and day-move "
        "thresholds the ticks never meet, spread over 100 users), evaluated in the tick's one alert query.",
        "",
        "| tick | median ms | vs. no alerts |",
        "|---|---|---|",
        f"| no alerts | {none:.1f} | 1.0x |",
        f"| {figures['alerts']:,} armed alerts | {armed:.1f} | {ratio(armed, none)} |",
        "",
        f"Target: at most 2x the tick without alerts: {verdict(armed <= 2 * none)}.",
        "",
    ]
