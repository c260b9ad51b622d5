"""Writing historical price bars (imports)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from trading.formats.bars import BarFileError, BarRow
from trading.models import PriceBar, Stock

BATCH_SIZE = 1000


def bars_import(*, rows: Iterable[BarRow]) -> tuple[int, int]:
    """Insert or update bars, all or nothing; returns (bars written, stocks touched).

    A bar is identified by stock, interval and start, so importing the same file
    twice leaves the same rows. Every symbol must exist: an unknown one is an
    error naming the file and line, and nothing is written.
    """
    # The last row wins when a file repeats a bar (ON CONFLICT cannot touch a row twice).
    rows = list({(row.symbol, row.interval, row.start): row for row in rows}.values())
    stocks = {stock.symbol: stock for stock in Stock.objects.filter(symbol__in={row.symbol for row in rows})}
    bars = []
    for row in rows:
        stock = stocks.get(row.symbol)
        if stock is None:
            raise BarFileError(row.path, row.line, f"unknown symbol {row.symbol!r}")
        bars.append(
            PriceBar(
                stock=stock,
                interval=row.interval,
                start=row.start,
                open=row.open,
                high=row.high,
                low=row.low,
                close=row.close,
                volume=row.volume,
            )
        )
    with transaction.atomic():
        for offset in range(0, len(bars), BATCH_SIZE):
            PriceBar.objects.bulk_create(
                bars[offset : offset + BATCH_SIZE],
                update_conflicts=True,
                unique_fields=["stock", "interval", "start"],
                update_fields=["open", "high", "low", "close", "volume"],
            )
    return len(bars), len({row.symbol for row in rows})
