"""manage.py import_prices: CSV bars in, all or nothing, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from trading.models import PriceBar
from trading.tests.conftest import new_stock

pytestmark = pytest.mark.django_db

GOOD = """symbol,interval,start,open,high,low,close,volume
ACME,1d,2026-01-05,101.20,103.00,100.75,102.50,1200300
ACME,1d,2026-01-06,102.50,104.10,102.00,103.90,990000
glob,,2026-01-05,20.00,20.50,19.80,20.10,50000
ACME,1m,2026-01-06T14:31:00Z,103.00,103.20,102.90,103.10,1500
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def run(*files) -> str:
    out = StringIO()
    call_command("import_prices", *map(str, files), stdout=out)
    return out.getvalue()


@pytest.fixture
def stocks():
    return new_stock("ACME", price=None), new_stock("GLOB", price=None)


def snapshot():
    return sorted(
        PriceBar.objects.values_list("stock__symbol", "interval", "start", "open", "high", "low", "close", "volume")
    )


def test_import_writes_every_bar_and_reports_a_summary(tmp_path, stocks):
    out = run(write(tmp_path, "bars.csv", GOOD))
    assert "Imported 4 bars for 2 stock(s) from 1 file(s)." in out
    bars = snapshot()
    assert len(bars) == 4
    assert ("ACME", "1m", datetime(2026, 1, 6, 14, 31, tzinfo=UTC)) in [bar[:3] for bar in bars]
    glob = PriceBar.objects.get(stock__symbol="GLOB")
    assert (glob.interval, glob.close, glob.volume) == ("1d", Decimal("20.10"), 50000)


def test_importing_again_changes_nothing_and_a_correction_updates_in_place(tmp_path, stocks):
    path = write(tmp_path, "bars.csv", GOOD)
    run(path)
    first = snapshot()
    run(path)
    assert snapshot() == first
    run(write(tmp_path, "fix.csv", "symbol,start,open,high,low,close,volume\nGLOB,2026-01-05,20,21,19.8,20.9,1\n"))
    assert PriceBar.objects.count() == 4
    assert PriceBar.objects.get(stock__symbol="GLOB").close == Decimal("20.9")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("ACME,1d,2026-01-07,1,2,0.5,x,10", "close 'x' is not a number"),
        ("ACME,1d,2026-01-07,1,2,0.5,-1,10", "close '-1' must be a positive price"),
        ("ACME,1d,2026-01-07,1,0.9,0.5,0.8,10", "high must be the highest"),
        ("ACME,1h,2026-01-07,1,2,0.5,1,10", "interval '1h' is not one of"),
        ("ACME,1d,07/01/2026,1,2,0.5,1,10", "is not an ISO 8601 date"),
        ("ACME,1d,2026-01-07,1,2,0.5,1,ten", "volume 'ten' is not a whole number"),
        ("ACME,1d,2026-01-07,1,2,0.5", "wrong number of fields"),
        ("NOPE,1d,2026-01-07,1,2,0.5,1,10", "unknown symbol 'NOPE'"),
    ],
)
def test_a_malformed_row_names_file_and_line_and_nothing_is_imported(tmp_path, stocks, row, message):
    good = write(tmp_path, "good.csv", GOOD)
    bad = write(tmp_path, "bad.csv", GOOD + row + "\n")
    with pytest.raises(CommandError) as excinfo:
        run(good, bad)
    assert f"{bad}, line 6: " in str(excinfo.value)
    assert message in str(excinfo.value)
    assert "Nothing was imported" in str(excinfo.value)
    assert PriceBar.objects.count() == 0


def test_missing_columns_and_missing_files_are_clear_errors(tmp_path, stocks):
    with pytest.raises(CommandError, match=r"line 1: header lacks column\(s\) volume"):
        run(write(tmp_path, "bars.csv", "symbol,start,open,high,low,close\n"))
    with pytest.raises(CommandError, match="cannot be read"):
        run(tmp_path / "absent.csv")


def test_the_importer_caps_prices_where_orders_and_quotes_do(tmp_path):
    # One cap for every price (core.money.MAX_PRICE): a bar the services could never quote is refused.
    from core.money import MAX_PRICE, clean_price
    from trading.formats.bars import read_bar_file

    at_cap = write(
        tmp_path, "cap.csv", f"symbol,start,open,high,low,close,volume\nACME,2026-01-05,1,{MAX_PRICE},1,1,1\n"
    )
    assert next(read_bar_file(at_cap)).high == clean_price(MAX_PRICE)
    above = MAX_PRICE + 1
    over = write(tmp_path, "over.csv", f"symbol,start,open,high,low,close,volume\nACME,2026-01-05,1,{above},1,1,1\n")
    with pytest.raises(ValueError, match="must be a positive price"):
        next(read_bar_file(over))
