"""Fixtures for the trading tests: a small market and traders with accounts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import Client

from trading import services
from trading.models import Company, Stock

_counter = itertools.count(1)
T0 = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


def new_stock(symbol: str | None = None, *, price: str | None = "100.00", at: datetime = T0, **fields) -> Stock:
    symbol = symbol or f"S{next(_counter)}"
    company = Company.objects.create(name=f"{symbol} Corporation", sector="Technology")
    stock = Stock.objects.create(symbol=symbol, company=company, **fields)
    if price is not None:
        services.quote_record(stock=stock, price=Decimal(price), at=at)
    return stock


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Each test makes several users; the production hasher would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def stock(db) -> Stock:
    return new_stock("ACME")


@pytest.fixture
def trader(make_user):
    user = make_user("trader")
    services.account_open(user=user)
    return user


@pytest.fixture
def other(make_user):
    user = make_user("other")
    services.account_open(user=user)
    return user


@pytest.fixture
def staff(make_user):
    user = make_user("staffer", is_staff=True, is_superuser=True)
    services.account_open(user=user)
    return user


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def buy(user, stock, quantity=10, **extra):
    return services.order_place(user=user, symbol=stock.symbol, side="buy", quantity=quantity, **extra)


def sell(user, stock, quantity=10, **extra):
    return services.order_place(user=user, symbol=stock.symbol, side="sell", quantity=quantity, **extra)
