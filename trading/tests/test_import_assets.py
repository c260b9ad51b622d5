"""manage.py import_assets: the listing from CSV or JSON, idempotent, all or nothing, hostile files refused."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from trading.demo import DEMO_COMPANIES, LISTING_FILE
from trading.formats.listing import COLUMNS, read_listing_file
from trading.market.feed import FeedSettings, SimulatedFeed
from trading.models import Company, Stock

pytestmark = pytest.mark.django_db

HEADER = ",".join(COLUMNS)


def snapshot() -> tuple:
    """Everything an import may write."""
    return (
        list(
            Stock.objects.order_by("symbol").values_list(
                "symbol", "company__name", "exchange", "currency", "tradable", "halted"
            )
        ),
        list(Company.objects.order_by("name").values_list("name", "sector", "description", "website")),
        list(Group.objects.order_by("name").values_list("name", flat=True)),
        list(
            Stock.visible_to_groups.through.objects.order_by("stock__symbol").values_list(
                "stock__symbol", "group__name"
            )
        ),
    )


def import_assets(path: Path | str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_assets", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(path: Path | str) -> str:
    """The problems reported for a file that must not be imported."""
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_assets", str(path), stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def write(tmp_path: Path, text: str | bytes, name: str = "listing.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_listing_imports_once_and_again_changes_nothing():
    out, _ = import_assets("trading/data/listing.csv")
    assert "32 stock(s) created, 0 updated, 0 unchanged" in out
    first = snapshot()
    assert {s.symbol for s in Stock.objects.all()} == {d.symbol for d in DEMO_COMPANIES}
    assert set(Stock.objects.get(symbol="QNTM").visible_to_groups.values_list("name", flat=True)) == {"premium"}
    assert not Stock.objects.get(symbol="ACME").visible_to_groups.exists()
    out, _ = import_assets("trading/data/listing.csv")
    assert "0 stock(s) created, 0 updated, 32 unchanged" in out
    assert snapshot() == first


def test_a_changed_listing_updates_in_place_and_leaves_other_stocks_alone(tmp_path):
    import_assets(LISTING_FILE)
    Stock.objects.filter(symbol="NOVA").update(halted=True)
    changed = write(
        tmp_path,
        f"{HEADER}\n"
        "ACME,Acme Anvil Works,XNAS,Machinery,New anvils.,https://acme.example.org,EUR,false,premium;pro\n"
        "QNTM,Quantum Lattice,XSIM,Technology,Quantum computers for research labs.,"
        "https://qntm.example.com,USD,true,\n"
        "NOVA,Nova Motors,XSIM,Consumer Discretionary,Electric city cars and scooters.,"
        "https://nova.example.com,USD,true,\n"
        "NEWC,New Company,,,,,,,\n",
    )
    out, _ = import_assets(changed)
    assert "1 stock(s) created, 2 updated, 1 unchanged" in out
    acme = Stock.objects.select_related("company").get(symbol="ACME")
    assert (acme.exchange, acme.currency, acme.tradable) == ("XNAS", "EUR", False)
    assert (acme.company.sector, acme.company.description) == ("Machinery", "New anvils.")
    assert set(acme.visible_to_groups.values_list("name", flat=True)) == {"premium", "pro"}
    assert not Stock.objects.get(symbol="QNTM").visible_to_groups.exists()  # restricted emptied: everyone
    assert Stock.objects.get(symbol="NOVA").halted is True  # operational state is not the listing's
    new = Stock.objects.get(symbol="NEWC")
    assert (new.exchange, new.currency, new.tradable) == ("XSIM", "USD", True)
    assert Stock.objects.filter(symbol="BRCK").exists()  # not in the file: left as it was
    assert import_assets(changed)[0].endswith("0 stock(s) created, 0 updated, 4 unchanged.\n")


def test_json_listing_is_read_like_csv(tmp_path):
    items = [
        {"symbol": "ACME", "name": "Acme Anvil Works", "tradable": False, "restricted": ["premium"]},
        {"symbol": "brk.b", "name": "Berkshire", "sector": "Financials", "website": "https://b.example.com"},
    ]
    out, _ = import_assets(write(tmp_path, json.dumps(items, indent=2), "listing.json"))
    assert "2 stock(s) created" in out
    assert Stock.objects.get(symbol="ACME").tradable is False
    assert Stock.objects.get(symbol="BRK.B").company.sector == "Financials"


def test_every_bad_row_is_reported_with_its_line_and_nothing_changes(tmp_path):
    import_assets(LISTING_FILE)
    before = snapshot()
    bad = write(
        tmp_path,
        f"{HEADER}\n"
        "ACME,Acme Anvil Works,XSIM,Industrials,Changed.,,USD,true,\n"  # good on its own
        "acme!,Bang,XSIM,,,,USD,true,\n"
        "ZZZZ,,XSIM,,,,USD,maybe,\n"
        "YYYY,Why,XSIM,,,javascript:alert(1),DOLLARS,true,\n"
        "XXXX,Ex,XSIM,,,,U5D,true,\n"
        "CLDW,too,few\n",
    )
    problems = refused(bad)
    assert "line 3: symbol 'ACME!' must be 1-10 capital letters" in problems
    assert "line 4: name is empty; tradable 'maybe' must be true or false" in problems
    assert "line 5: website must be an http:// or https:// URL; currency is 7 characters long (at most 3)" in problems
    assert "line 6: currency 'U5D' must be a 3-letter code such as USD" in problems
    assert "line 7: 3 fields; the header has 9" in problems
    assert snapshot() == before


def test_rows_that_contradict_each_other_are_refused(tmp_path):
    bad = write(
        tmp_path,
        f"{HEADER}\n"
        "GOOG,Alphabet,XNAS,Technology,,,USD,true,\n"
        "GOOGL,Alphabet,XNAS,Media,,,USD,true,\n"
        "GOOG,Alphabet,XNAS,Technology,,,USD,true,\n",
    )
    problems = refused(bad)
    assert "line 3: company 'Alphabet' has another sector on line 2" in problems
    assert "line 4: symbol GOOG is already on line 2" in problems
    assert Stock.objects.count() == 0


HOSTILE = [
    pytest.param(
        f"{HEADER}\nAC\x00ME,Acme,XSIM,,,,USD,true,\n", "line 2: symbol contains a control character", id="nul"
    ),
    pytest.param(
        f"{HEADER}\nACME,Ac\x00me,XSIM,,,,USD,true,\n", "line 2: name contains a control character", id="nul-name"
    ),
    pytest.param(
        f'{HEADER}\nACME,Acme,XSIM,,,,USD,true,\nBRCK,"Brick\nfield",XSIM,,,,USD,true,\n',
        "line 3: name contains a control character",
        id="newline-name",
    ),
    pytest.param(
        f"{HEADER}\nACME,Acme,XSIM,,\x1b[2J,,USD,true,\n", "description contains a control character", id="escape"
    ),
    pytest.param(f"{HEADER}\n<script>,Acme,XSIM,,,,USD,true,\n", "line 2: symbol '<SCRIPT>' must be", id="markup"),
    pytest.param(
        f"{HEADER}\nTOOLONGSYMBOL,Acme,XSIM,,,,USD,true,\n", "line 2: symbol is 13 characters", id="long-symbol"
    ),
    pytest.param(f"{HEADER}\n1ABC,Acme,XSIM,,,,USD,true,\n", "line 2: symbol '1ABC' must be", id="digit-first"),
    pytest.param(f"{HEADER}\nACME,Acme,XSIM,,{'x' * 5000},,USD,true,\n", "description is 5000 characters", id="long"),
    pytest.param(
        f"{HEADER}\nACME,Acme,XSIM,,,,USD,true,\nHUGE,Huge,XSIM,,{'x' * 200_000},,USD,true,\n",
        "line 3: not readable as CSV",
        id="huge-field",
    ),
    pytest.param(
        f"{HEADER}\nACME,Acme,XSIM,,,,USD,true,\n".encode() + b"BAD,\xff\xfe,,,,,,,\n", "not UTF-8", id="bytes"
    ),
    pytest.param("symbol,name,sectr\nACME,Acme,x\n", "line 1: the header has unknown column(s) 'sectr'", id="typo"),
    pytest.param("name\nAcme\n", "line 1: the header lacks column(s) symbol", id="no-symbol"),
    pytest.param("", "line 1: the header lacks column(s) symbol, name", id="empty"),
]


@pytest.mark.parametrize(("content", "message"), HOSTILE)
def test_hostile_csv_is_refused_with_its_line_and_changes_nothing(tmp_path, content, message):
    import_assets(LISTING_FILE)
    before = snapshot()
    problems = refused(write(tmp_path, content))
    assert message in problems
    assert snapshot() == before


HOSTILE_JSON = [
    pytest.param("[" * 100 + "]" * 100, "not valid JSON (JSON nested deeper", id="deep"),
    pytest.param('{"symbol": "ACME"}', "must be a JSON array of objects", id="object"),
    pytest.param(
        '[\n  {"symbol": "ACME", "name": "Acme"},\n  "ACME"\n]', "line 3: must be an object", id="string-item"
    ),
    pytest.param('[\n  {"symbol": "ACME", "name": "Acme", "ceo": "x"}\n]', "line 2: unknown key(s) 'ceo'", id="key"),
    pytest.param('[\n {"symbol": "ACME", "name": 7}\n]', "line 2: name must be text", id="number"),
    pytest.param('[{"symbol": "ACME", "name": "Acme", "restricted": [1]}]', "restricted must be group names", id="gr"),
    pytest.param('[{"symbol": "AC\\u0000ME", "name": "Acme"}]', "symbol contains a control character", id="nul"),
    pytest.param('[{"symbol": "ACME", "name": "\\ud800"}]', "name contains a control character", id="surrogate"),
    pytest.param("[{", "not valid JSON", id="truncated"),
]


@pytest.mark.parametrize(("content", "message"), HOSTILE_JSON)
def test_hostile_json_is_refused_and_changes_nothing(tmp_path, content, message):
    import_assets(LISTING_FILE)
    before = snapshot()
    assert message in refused(write(tmp_path, content, "listing.json"))
    assert snapshot() == before


def test_a_missing_file_is_an_error():
    assert "no such file" in refused("trading/data/no-such-listing.csv")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_large_file_shows_progress_and_imports_every_row(tmp_path):
    path = tmp_path / "large.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(3500):
            writer.writerow([f"S{n}", f"Company {n}", "XSIM", f"Sector {n % 7}", "", "", "USD", "true", ""])
    out, err = io.StringIO(), Terminal()
    call_command("import_assets", str(path), stdout=out, stderr=err)
    assert "3500 stock(s) created" in out.getvalue()
    assert [f"checking {path}: {n} rows" in err.getvalue() for n in (1000, 2000, 3000)] == [True] * 3
    assert Stock.objects.count() == Company.objects.count() == 3500


def test_the_demo_loader_lists_exactly_the_shipped_file(settings):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo_data", verbosity=0)
    rows, errors = read_listing_file(LISTING_FILE)
    assert errors == []
    listed = set(Stock.objects.values_list("symbol", "company__name", "company__sector"))
    assert listed == {(row.symbol, row.name, row.sector) for row in rows}
    # Every listed company has a simulated price series, and no series lacks a company.
    assert {row.symbol for row in rows} == {demo.symbol for demo in DEMO_COMPANIES}
    out, _ = import_assets(LISTING_FILE)
    assert "0 stock(s) created, 0 updated, 32 unchanged" in out


def test_the_shipped_prices_give_every_listed_stock_a_price_the_feed_walks_from():
    # What the release step runs on a new site with the shipped defaults
    # (STOCKCHAT_RELEASE_LISTING and STOCKCHAT_RELEASE_PRICES): without a price,
    # the feed would leave every stock alone.
    import_assets("trading/data/listing.csv")
    call_command("import_prices", "trading/data/prices-daily.csv", stdout=io.StringIO())
    feed = SimulatedFeed(FeedSettings(seed=1))
    feed.refresh_stocks()
    assert set(feed.stocks) == set(Stock.objects.filter(tradable=True).values_list("symbol", flat=True))
    assert {tick.symbol for tick in feed.next_ticks()} == set(feed.stocks)
