from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from trading.books import books_violations
from trading.demo import DEMO_COMPANIES, demo_bars
from trading.models import Account, Company, Order, PriceBar, Quote, Stock
from trading.selectors import stock_list

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(Stock.objects.order_by("symbol").values_list("symbol", "company__sector")),
        PriceBar.objects.count(),
        list(Account.objects.order_by("pk").values_list("user__username", "cash", "reserved")),
        Order.objects.count(),
    )


def test_demo_market_loads_once_with_accounts_and_balanced_books(settings):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo_data", verbosity=0)
    first = snapshot()
    call_command("load_demo_data", verbosity=0)
    assert snapshot() == first
    assert Stock.objects.count() == len(DEMO_COMPANIES) >= 24
    assert len(set(Company.objects.values_list("sector", flat=True))) >= 8
    assert Quote.objects.count() == Stock.objects.count()
    assert PriceBar.objects.filter(interval="1d").count() >= 250 * len(DEMO_COMPANIES)
    assert PriceBar.objects.filter(interval="1m").exists()
    users = {u.username: u for u in get_user_model().objects.all()}
    assert {"admin", "alice", "bob"} <= set(Account.objects.values_list("user__username", flat=True))
    # alice is premium and sees the restricted stocks; bob does not.
    assert {"QNTM", "ORBT"} <= {s.symbol for s in stock_list(viewer=users["alice"])}
    assert not {"QNTM", "ORBT"} & {s.symbol for s in stock_list(viewer=users["bob"])}
    assert Order.objects.filter(status="new").exists()
    assert books_violations() == []


def test_demo_bars_are_deterministic_and_consistent():
    now = datetime(2026, 6, 15, 14, 30, tzinfo=UTC)
    company = DEMO_COMPANIES[0]
    stock = Stock(symbol=company.symbol)
    first = [(b.interval, b.start, b.open, b.high, b.low, b.close, b.volume) for b in demo_bars(company, stock, now)]
    again = [(b.interval, b.start, b.open, b.high, b.low, b.close, b.volume) for b in demo_bars(company, stock, now)]
    assert first == again
    for _, _, open_, high, low, close, volume in first:
        assert 0 < low <= min(open_, close) <= max(open_, close) <= high
        assert volume >= 0
    other = demo_bars(DEMO_COMPANIES[1], Stock(symbol=DEMO_COMPANIES[1].symbol), now)
    assert [b.close for b in other][:5] != [row[5] for row in first][:5]
