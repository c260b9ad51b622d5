"""Fixtures of the web UI browser tests: a daphne (with or without the market simulator), a
small market with a month of daily bars, two people with trading accounts, and Chromium."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from stockchat.tests.browser import Site
from testsupport.browser import chromium
from trading.models import PriceBar
from trading.tests.conftest import new_stock


@pytest.fixture
def site():
    with Site().running() as server:
        yield server


@pytest.fixture
def ticking_site():
    """A daphne with the embedded market simulator moving prices."""
    with Site(feed="embedded").running() as server:
        yield server


@pytest.fixture
def market(db):
    stock = new_stock("ACME", price="100.00", at=timezone.now())
    stock.company.description = "Anvils, rockets and other fine products."
    stock.company.save()
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    bars = []
    for day in range(30):
        open_, close = Decimal(90 + day % 7), Decimal(91 + (day * 3) % 8)
        bars.append(
            PriceBar(
                stock=stock,
                interval="1d",
                start=today - timedelta(days=30 - day),
                open=open_,
                high=max(open_, close) + 2,
                low=min(open_, close) - 2,
                close=close,
                volume=1000 + day,
            )
        )
    PriceBar.objects.bulk_create(bars)
    new_stock("BOLT", price="42.50", at=timezone.now())
    return stock


@pytest.fixture
def people(make_user, market):
    # create_user onboards: both have a trading account with the opening cash.
    return make_user("alice"), make_user("bob")


@pytest.fixture
def browser(monkeypatch):
    # sync_playwright runs an event loop in this thread; the test's own ORM calls are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium() as launched:
        yield launched
