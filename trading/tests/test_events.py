"""The exact events each service sends, captured from its on-commit callbacks."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core.formats import api_datetime
from trading import events, services
from trading.tests.conftest import T0, buy

pytestmark = pytest.mark.django_db


def _receive_all(layer, channel):
    # The in-memory layer keeps a queue per channel; read what is there without waiting.
    messages = []
    while channel in layer.channels and not layer.channels[channel].empty():
        messages.append(async_to_sync(layer.receive)(channel))
    return messages


@pytest.fixture
def received():
    """Subscribe one channel of the (in-memory) layer to groups; returns a drain function."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    groups = []

    def subscribe(*names):
        for name in names:
            groups.append(name)
            async_to_sync(layer.group_add)(name, channel)
        return lambda: [m["frame"] for m in _receive_all(layer, channel) if m["type"] == "hub.event"]

    yield subscribe
    for name in groups:
        async_to_sync(layer.group_discard)(name, channel)


def test_market_buy_sends_order_fill_and_account_events_after_commit(
    trader, stock, received, django_capture_on_commit_callbacks
):
    drain = received(events.user_group(trader.pk))
    with django_capture_on_commit_callbacks() as callbacks:
        order = buy(trader, stock, 2, client_order_id="ev-1")
    assert drain() == []  # nothing is sent before the commit
    for callback in callbacks:
        callback()
    fill = order.fill
    frames = drain()
    # The frame carries the REST API's order (trading.events.order_data): its times as the API writes them.
    placed_at = api_datetime(order.submitted_at)
    assert frames[0]["order"]["updated_at"] >= placed_at
    times = {"submitted_at": placed_at, "triggered_at": None}
    first = {**times, "updated_at": frames[0]["order"]["updated_at"], "closed_at": None, "reserved_amount": "200.00"}
    filled = {**times, "updated_at": api_datetime(order.updated_at), "closed_at": api_datetime(order.closed_at)}
    filled["reserved_amount"] = "0.00"
    base = {
        "id": order.pk,
        "client_order_id": "ev-1",
        "symbol": "ACME",
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
        "quantity": 2,
        "limit_price": None,
        "stop_price": None,
        "reason": "",
    }
    assert frames == [
        {
            "type": "order.updated",
            "v": 1,
            "order": {**base, **first, "status": "new", "filled_quantity": 0, "filled_average_price": None},
        },
        {
            "type": "order.updated",
            "v": 1,
            "order": {**base, **filled, "status": "filled", "filled_quantity": 2, "filled_average_price": "100.0000"},
        },
        {
            "type": "fill.created",
            "v": 1,
            "fill": {
                "id": fill.pk,
                "order_id": order.pk,
                "symbol": "ACME",
                "side": "buy",
                "quantity": 2,
                "price": "100.0000",
                "amount": "200.00",
                "realized_pnl": "0",
                "executed_at": fill.executed_at.isoformat(),
            },
        },
        {
            "type": "account.updated",
            "v": 1,
            "account": {"cash": "99800.00", "reserved": "0.00", "buying_power": "99800.00"},
        },
    ]


def test_quote_record_sends_the_quote_to_the_price_group(stock, received, django_capture_on_commit_callbacks):
    drain = received(events.price_group("ACME"))
    at = T0 + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_record(stock=stock, price=Decimal("101.5"), at=at)
    assert drain() == [
        {
            "type": "quote.updated",
            "v": 1,
            "quote": {
                "symbol": "ACME",
                "price": "101.5000",
                "previous_close": "100.0000",
                "change": "1.5000",
                "at": at.isoformat(),
            },
        }
    ]


def test_cancel_sends_order_and_account_events(trader, stock, received, django_capture_on_commit_callbacks):
    order = buy(trader, stock, 1, type="limit", limit_price="50")
    drain = received(events.user_group(trader.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(user=trader, order_id=order.pk)
    sent = drain()
    assert [e["type"] for e in sent] == ["order.updated", "account.updated"]
    assert sent[0]["order"]["status"] == "canceled"
    assert sent[1]["account"] == {"cash": "100000.00", "reserved": "0.00", "buying_power": "100000.00"}


def test_a_refused_order_sends_nothing(trader, stock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Exception, match="buying power"):
        buy(trader, stock, 100_000)
    assert callbacks == []


def test_other_users_groups_get_nothing(trader, other, stock, received, django_capture_on_commit_callbacks):
    drain = received(events.user_group(other.pk))
    with django_capture_on_commit_callbacks(execute=True):
        buy(trader, stock, 1)
    assert drain() == []


def test_group_names_are_valid_channel_group_names():
    assert events.user_group(42) == "user.42"
    assert events.price_group("BRK.B") == "price.BRK.B"


def test_an_order_updated_frame_carries_the_rest_apis_order(
    trader, stock, received, django_capture_on_commit_callbacks
):
    # One shape (trading.events.order_data): static/js/main.js applies REST orders as frames after a reconnect.
    from trading.tests.conftest import client_for

    drain = received(events.user_group(trader.pk))
    client = client_for(trader)
    with django_capture_on_commit_callbacks(execute=True):
        body = {"symbol": "ACME", "side": "buy", "type": "limit", "limit_price": "90.5", "quantity": 3}
        placed = client.post("/api/v1/orders", body, content_type="application/json").json()
    with django_capture_on_commit_callbacks(execute=True):
        canceled = client.delete(f"/api/v1/orders/{placed['id']}").json()
    frames = [frame["order"] for frame in drain() if frame["type"] == events.ORDER_UPDATED]
    assert [frame["status"] for frame in frames] == ["new", "canceled"]
    # Through JSON, as a client reads both.
    assert json.loads(json.dumps(frames[0])) == placed
    assert json.loads(json.dumps(frames[1])) == canceled == client.get(f"/api/v1/orders/{placed['id']}").json()
