"""Trading over the one WebSocket: price subscriptions and the user's own order events."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group

from stockchat.asgi import application
from testsupport.socket_contract import ContractCommunicator
from trading import consumers, services
from trading.tests.conftest import T0, new_stock

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def setup_market(make_user):
    alice = make_user("alice")
    bob = make_user("bob")
    for user in (alice, bob):
        services.account_open(user=user)
    acme = new_stock("ACME", price="100.00")
    new_stock("GLOB", price="50.00")
    hidden = new_stock("SECR", price="10.00")
    premium = Group.objects.create(name="premium")
    hidden.visible_to_groups.add(premium)
    return alice, bob, acme, hidden


@pytest.fixture
async def market(make_user):
    return await setup_market(make_user)


async def connect(ws_headers, user) -> ContractCommunicator:
    communicator = ContractCommunicator(application, "/ws/", headers=await ws_headers(user))
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator


record_quote = database_sync_to_async(services.quote_record)


async def test_subscribe_sends_a_snapshot_then_every_tick(market, ws_headers):
    alice, _, acme, _ = market
    socket = await connect(ws_headers, alice)
    await socket.send_json_to({"type": "prices.subscribe", "symbols": ["acme", "GLOB"], "ref": "s1"})
    assert await socket.receive_json_from(timeout=5) == {
        "type": "prices.subscribed",
        "symbols": ["ACME", "GLOB"],
        "ref": "s1",
    }
    snapshots = [await socket.receive_json_from(timeout=5) for _ in range(2)]
    assert [(s["type"], s["quote"]["symbol"], Decimal(s["quote"]["price"])) for s in snapshots] == [
        ("quote.updated", "ACME", Decimal("100.00")),
        ("quote.updated", "GLOB", Decimal("50.00")),
    ]

    await record_quote(stock=acme, price=Decimal("101.25"), at=T0 + timedelta(seconds=1))
    tick = await socket.receive_json_from(timeout=5)
    assert tick["type"] == "quote.updated"
    assert tick["quote"]["symbol"] == "ACME"
    assert Decimal(tick["quote"]["price"]) == Decimal("101.25")
    assert tick["quote"]["at"] == (T0 + timedelta(seconds=1)).isoformat()
    await socket.disconnect()


async def test_unsubscribe_stops_ticks(market, ws_headers):
    alice, _, acme, _ = market
    socket = await connect(ws_headers, alice)
    await socket.send_json_to({"type": "prices.subscribe", "symbols": ["ACME"]})
    await socket.receive_json_from(timeout=5)
    await socket.receive_json_from(timeout=5)
    await socket.send_json_to({"type": "prices.unsubscribe", "symbols": ["ACME"], "ref": 2})
    assert await socket.receive_json_from(timeout=5) == {"type": "prices.unsubscribed", "symbols": ["ACME"], "ref": 2}
    await record_quote(stock=acme, price=Decimal("99.00"), at=T0 + timedelta(seconds=2))
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


@pytest.mark.parametrize("symbols", [["SECR"], ["NOPE"], ["ACME", "SECR"]])
async def test_unknown_or_hidden_symbols_are_refused_and_nothing_is_followed(market, ws_headers, symbols):
    alice, _, acme, hidden = market
    socket = await connect(ws_headers, alice)
    await socket.send_json_to({"type": "prices.subscribe", "symbols": symbols, "ref": 9})
    error = await socket.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == "unknown_symbol"
    assert error["ref"] == 9
    # The hidden one is named the same way as one that does not exist.
    assert "SECR" in error["detail"] or "NOPE" in error["detail"]
    await record_quote(stock=acme, price=Decimal("102.00"), at=T0 + timedelta(seconds=3))
    await record_quote(stock=hidden, price=Decimal("11.00"), at=T0 + timedelta(seconds=3))
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_a_member_of_the_group_may_follow_a_restricted_stock(market, ws_headers):
    alice, _, _, _ = market
    await database_sync_to_async(lambda: alice.groups.add(Group.objects.get(name="premium")))()
    socket = await connect(ws_headers, alice)
    await socket.send_json_to({"type": "prices.subscribe", "symbols": ["SECR"]})
    assert (await socket.receive_json_from(timeout=5))["type"] == "prices.subscribed"
    assert Decimal((await socket.receive_json_from(timeout=5))["quote"]["price"]) == Decimal("10.00")
    await socket.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "prices.subscribe"},
        {"type": "prices.subscribe", "symbols": []},
        {"type": "prices.subscribe", "symbols": "ACME"},
        {"type": "prices.subscribe", "symbols": [1, 2]},
        {"type": "prices.subscribe", "symbols": ["A" * 13]},
        {"type": "prices.subscribe", "symbols": [f"S{n}" for n in range(51)]},
        {"type": "prices.unsubscribe", "symbols": None},
        # Not symbols at all: refused, never echoed back in a reply (the contract's pattern).
        {"type": "prices.unsubscribe", "symbols": ["{"]},
        {"type": "prices.unsubscribe", "symbols": ["\ufb01"]},  # "ﬁ": upper-cases to ASCII "FI"
        {"type": "prices.subscribe", "symbols": ["AC ME"]},
    ],
)
async def test_malformed_subscriptions_get_an_invalid_error(market, ws_headers, frame):
    alice, _, _, _ = market
    socket = await connect(ws_headers, alice)
    await socket.send_json_to(frame)
    error = await socket.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "invalid")
    await socket.disconnect()


async def test_subscriptions_per_socket_are_bounded(market, ws_headers, monkeypatch):
    monkeypatch.setattr(consumers, "MAX_PRICE_SUBSCRIPTIONS", 1)
    alice, _, _, _ = market
    socket = await connect(ws_headers, alice)
    await socket.send_json_to({"type": "prices.subscribe", "symbols": ["ACME", "GLOB"]})
    assert (await socket.receive_json_from(timeout=5))["code"] == "too_many_subscriptions"
    await socket.send_json_to({"type": "prices.subscribe", "symbols": ["ACME"]})
    assert (await socket.receive_json_from(timeout=5))["type"] == "prices.subscribed"
    await socket.disconnect()


async def test_own_order_fill_and_account_updates_arrive_and_never_reach_another_user(market, ws_headers):
    alice, bob, _, _ = market
    alice_socket = await connect(ws_headers, alice)
    bob_socket = await connect(ws_headers, bob)
    order = await database_sync_to_async(services.order_place)(user=alice, symbol="ACME", side="buy", quantity=3)
    received = [await alice_socket.receive_json_from(timeout=5) for _ in range(4)]
    assert [event["type"] for event in received] == [
        "order.updated",
        "order.updated",
        "fill.created",
        "account.updated",
    ]
    assert received[0]["order"]["status"] == "new"
    events = {event["type"]: event for event in received}
    assert events["order.updated"]["order"]["id"] == order.pk
    assert events["order.updated"]["order"]["status"] == "filled"
    assert events["fill.created"]["fill"]["quantity"] == 3
    assert Decimal(events["fill.created"]["fill"]["price"]) == Decimal("100.00")
    assert Decimal(events["account.updated"]["account"]["cash"]) == Decimal("100000.00") - Decimal("300.00")
    assert await bob_socket.receive_nothing(timeout=0.3)
    await alice_socket.disconnect()
    await bob_socket.disconnect()
