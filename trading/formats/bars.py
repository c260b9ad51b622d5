"""Reading historical price bars from CSV files.

The format has a header row and these columns (any order, extra columns ignored)::

    symbol,interval,start,open,high,low,close,volume
    ACME,1d,2026-01-05,101.20,103.00,100.75,102.50,1200300

``interval`` is ``1d`` or ``1m`` and may be left out (``1d``). ``start`` is an
ISO 8601 date or date-time; a time without a zone is UTC. A malformed row is an
``BarFileError`` naming the file and line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path

from core.money import MAX_PRICE, PRICE_STEP, has_places, parse_decimal
from trading.models import BarInterval

REQUIRED_COLUMNS = ("symbol", "start", "open", "high", "low", "close", "volume")


class BarFileError(ValueError):
    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}, line {line}: {message}")
        self.path = str(path)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class BarRow:
    symbol: str
    interval: str
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    path: str
    line: int


def _price(raw: str, column: str) -> Decimal:
    value = parse_decimal(raw.strip())
    if value is None:
        raise ValueError(f"{column} {raw!r} is not a number")
    if value <= 0 or value > MAX_PRICE:
        raise ValueError(f"{column} {raw!r} must be a positive price of at most {MAX_PRICE}")
    if not has_places(value, PRICE_STEP):
        raise ValueError(f"{column} {raw!r} has more than 4 decimal places")
    return value


def _start(raw: str) -> datetime:
    text = raw.strip()
    try:
        if len(text) == 10:
            return datetime.combine(datetime.fromisoformat(text).date(), time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"start {raw!r} is not an ISO 8601 date or date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_bar_file(path: Path | str) -> Iterator[BarRow]:
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise BarFileError(path, 0, f"cannot be read: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = [name.strip().lower() for name in reader.fieldnames or []]
        missing = [column for column in REQUIRED_COLUMNS if column not in header]
        if missing:
            raise BarFileError(path, 1, f"header lacks column(s) {', '.join(missing)}")
        reader.fieldnames = header
        for record in reader:
            line = reader.line_num
            if None in record or any(record.get(column) is None for column in REQUIRED_COLUMNS):
                raise BarFileError(path, line, "wrong number of fields")
            try:
                yield _parse(record, path, line)
            except ValueError as exc:
                raise BarFileError(path, line, str(exc)) from None


def _parse(record: dict[str, str], path: Path, line: int) -> BarRow:
    symbol = record["symbol"].strip().upper()
    if not symbol:
        raise ValueError("symbol is empty")
    interval = (record.get("interval") or BarInterval.DAY).strip()
    if interval not in BarInterval.values:
        raise ValueError(f"interval {interval!r} is not one of {', '.join(BarInterval.values)}")
    open_, high, low, close = (_price(record[c], c) for c in ("open", "high", "low", "close"))
    if high < max(open_, close, low) or low > min(open_, close):
        raise ValueError("high must be the highest and low the lowest of open, high, low, close")
    try:
        volume = int(record["volume"].strip())
    except ValueError:
        raise ValueError(f"volume {record['volume']!r} is not a whole number") from None
    if volume < 0:
        raise ValueError("volume must not be negative")
    return BarRow(symbol, interval, _start(record["start"]), open_, high, low, close, volume, str(path), line)
