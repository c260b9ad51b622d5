"""The exact bytes of the time-series endpoints, which are rendered from rows rather than serializers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from trading import services
from trading.models import BarInterval, PriceBar
from trading.tests.conftest import T0, buy, client_for


def test_bars_output_is_pinned_byte_for_byte(trader, stock):
    PriceBar.objects.filter(stock=stock).delete()
    for minute, (low, high, volume) in enumerate(
        [("0.0001", "9999999999.9999", 0), ("99.5", "101.25", 123456789012), ("7", "7", 1)]
    ):
        PriceBar.objects.create(
            stock=stock,
            interval=BarInterval.MINUTE,
            start=T0 + timedelta(minutes=minute, microseconds=500 if minute == 1 else 0),
            open=Decimal(low),
            high=Decimal(high),
            low=Decimal(low),
            close=Decimal(high),
            volume=volume,
        )
    client = client_for(trader)

    first = client.get("/api/v1/assets/ACME/bars?interval=1m&limit=2")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/json"
    next_url = first.json()["next"]
    assert first.content == (
        b'{"next":"' + next_url.encode() + b'","previous":null,"results":['
        b'{"start":"2026-03-02T15:30:00Z","open":"0.0001","high":"9999999999.9999","low":"0.0001",'
        b'"close":"9999999999.9999","volume":0},'
        b'{"start":"2026-03-02T15:31:00.000500Z","open":"99.5000","high":"101.2500","low":"99.5000",'
        b'"close":"101.2500","volume":123456789012}]}'
    )
    assert next_url.startswith("http://testserver/api/v1/assets/ACME/bars?cursor=")

    second = client.get(next_url)
    assert second.content == (
        b'{"next":null,"previous":"' + second.json()["previous"].encode() + b'","results":['
        b'{"start":"2026-03-02T15:32:00Z","open":"7.0000","high":"7.0000","low":"7.0000",'
        b'"close":"7.0000","volume":1}]}'
    )
    assert client.get("/api/v1/assets/ACME/bars?interval=1d").content == b'{"next":null,"previous":null,"results":[]}'


def test_portfolio_history_output_is_pinned_byte_for_byte(trader, stock):
    buy(trader, stock, 10)
    services.account_credit(account=trader.trading_account, amount="0.05")
    now = timezone.now()
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    PriceBar.objects.update_or_create(
        stock=stock,
        interval=BarInterval.DAY,
        start=day_start,
        defaults={"open": "110", "high": "110.1234", "low": "110", "close": "110.1234", "volume": 5},
    )
    response = client_for(trader).get("/api/v1/account/portfolio/history?days=2")
    assert response.status_code == 200
    # Yesterday has no entries yet, so today is the only point; 10 shares at 110.1234.
    assert response.content == (
        f'[{{"day":"{now.date().isoformat()}","cash":"99000.05","equity":"100101.28"}}]'.encode()
    )
