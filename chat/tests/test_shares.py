"""Shared fills and positions: one's own only, a card with the live price, a Share control on the
order confirmation and the position rows (trading's pages reach chat through its template tag)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from chat import services
from chat.models import Message
from chat.tests.conftest import client_for
from core.errors import NotFound
from trading import services as trading

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder(world):
    """bob holds 3 ACME; carol (outside the group) holds 1 ACME of her own."""
    for user in (world.member, world.outsider):
        trading.account_open(user=user)
    world.fill = trading.order_place(user=world.member, symbol="ACME", side="buy", quantity=3).fill
    world.carol_fill = trading.order_place(user=world.outsider, symbol="ACME", side="buy", quantity=1).fill
    return world


def post_share(user, conversation, **body):
    return client_for(user).post(
        f"/api/v1/conversations/{conversation.pk}/messages", body, content_type="application/json"
    )


def test_a_position_is_shared_as_a_snapshot_of_ones_own_holding(holder):
    world = holder
    message = services.position_share(user=world.member, conversation_id=world.group.pk, symbol="acme")
    shared = message.payload["position"]
    assert message.payload["kind"] == "position"
    assert (shared["symbol"], shared["side"], shared["quantity"], shared["price"]) == ("ACME", "long", 3, "100.0000")
    # alice holds nothing: there is no position of hers to share, whoever else holds one.
    with pytest.raises(NotFound) as exc:
        services.position_share(user=world.owner, conversation_id=world.group.pk, symbol="ACME")
    assert exc.value.code == "position_not_found"


def test_the_api_shares_only_ones_own_fill_or_position(holder):
    world = holder
    own = post_share(world.member, world.group, fill_id=world.fill.pk)
    assert own.status_code == 201
    assert own.json()["payload"]["fill"]["id"] == world.fill.pk
    assert own.json()["symbols"] == ["ACME"]
    someone_elses = post_share(world.member, world.group, fill_id=world.carol_fill.pk)
    assert (someone_elses.status_code, someone_elses.json()["code"]) == (404, "fill_not_found")
    position = post_share(world.member, world.group, position_symbol="ACME", body="still holding")
    assert (position.status_code, position.json()["payload"]["kind"]) == (201, "position")
    none_held = post_share(world.owner, world.group, position_symbol="ACME")
    assert (none_held.status_code, none_held.json()["code"]) == (404, "position_not_found")
    both = post_share(world.member, world.group, fill_id=world.fill.pk, position_symbol="ACME")
    assert (both.status_code, both.json()["code"]) == (400, "invalid")
    # An outsider cannot share even their own fill into a conversation they are not in.
    outsider = post_share(world.outsider, world.group, fill_id=world.carol_fill.pk)
    assert (outsider.status_code, outsider.json()["code"]) == (404, "conversation_not_found")
    assert Message.objects.filter(conversation=world.group).count() == 2


def test_the_chat_page_renders_a_card_with_a_live_price_only_for_a_stock_the_reader_may_see(holder):
    world = holder
    services.fill_share(user=world.member, conversation_id=world.group.pk, fill_id=world.fill.pk)
    html = client_for(world.owner).get(f"/chat/{world.group.pk}/").content.decode()
    card = re.search(r'<div class="share-card share-fill".*?</dl>', html, re.S).group(0)
    assert 'data-quote-symbol="ACME"' in card
    assert "BUY" in card
    assert "$100.00" in card
    assert 'data-field="price"' in card
    # A restricted stock's card is shown without following its price: prices.subscribe would
    # refuse it, and with it the other symbols of its frame.
    secret = {"id": 1, "symbol": "SECR", "side": "sell", "quantity": 1, "price": "50.0000"}
    payload = {"kind": "fill", "fill": {**secret, "executed_at": world.fill.executed_at.isoformat()}}
    services.message_send(user=world.member, conversation_id=world.group.pk, body="", payload=payload)
    html = client_for(world.owner).get(f"/chat/{world.group.pk}/").content.decode()
    card = re.search(r'<div class="share-card share-fill"[^>]*>(?:(?!share-card ).)*?SECR', html, re.S).group(0)
    assert "data-quote-symbol" not in card
    page = client_for(world.owner).get(f"/api/v1/conversations/{world.group.pk}/messages").json()["results"]
    assert [m["symbols"] for m in page] == [["ACME"], []]


def test_the_order_confirmation_offers_to_share_the_fill_once(holder):
    world = holder
    client = client_for(world.member)
    ticket = {"side": "buy", "type": "market", "quantity": "2", "time_in_force": "day", "step": "confirm"}
    response = client.post(reverse("order_ticket", args=["ACME"]), {**ticket, "client_order_id": "c" * 32})
    page = client.get(response["Location"]).content.decode()
    fill_id = int(re.search(r'data-confirmed-fill="(\d+)"', page).group(1))
    assert fill_id != world.fill.pk
    assert f'data-share-kind="fill" data-share-value="{fill_id}"' in page
    assert 'data-conversations-url="/api/v1/conversations"' in page
    assert "share.js" in page
    # Shown once, like the flash message above it.
    assert "data-confirmed-fill" not in client.get(response["Location"]).content.decode()


def test_position_rows_have_a_share_control(holder):
    page = client_for(holder.member).get(reverse("portfolio")).content.decode()
    assert 'data-share-kind="position" data-share-value="ACME"' in page
    assert "share.js" in page
