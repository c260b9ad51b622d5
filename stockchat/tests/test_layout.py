"""Page markup that decides layout and what people read: the reading (and Tab) order of the stock
and chat pages, long names that must not widen a page, and amounts with two decimals.

What a browser makes of it at phone and desktop widths is in test_browser_features.py."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from chat import services as chat_services
from trading import services
from trading.models import Quote
from trading.tests.conftest import new_stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_user):
    new_stock("ACME")
    user = make_user("alice")
    make_user("bob")
    services.account_open(user=user)
    return user


def page(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def positions(html: str, *markers: str) -> list[int]:
    found = [html.find(marker) for marker in markers]
    assert -1 not in found, dict(zip(markers, found, strict=True))
    return found


def test_the_stock_page_reads_chart_ticket_room_then_orders_and_about(alice):
    html = page(alice, reverse("stock_detail", args=["ACME"]))
    order = positions(
        html,
        'id="chart-heading"',
        'id="ticket-heading"',
        'id="room-heading"',
        'id="open-orders-heading"',
        'id="profile-heading"',
    )
    assert order == sorted(order)


def test_the_chat_page_reads_the_conversation_then_the_list(alice):
    group = chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    html = page(alice, reverse("conversation", args=[group.pk]))
    order = positions(html, 'id="pane-heading"', 'id="composer"', 'id="conversations-heading"')
    assert order == sorted(order)


def test_a_long_username_is_cut_in_the_header_and_whole_in_its_title(make_user):
    name = "n" * 150
    html = page(make_user(name), reverse("account"))
    assert f'<a class="nav-username" href="{reverse("account")}" title="{name}">{name}</a>' in html


def test_a_cut_conversation_title_keeps_its_whole_text_in_a_title(alice):
    title = "t" * 100
    group = chat_services.group_create(user=alice, title=title, member_usernames=["bob"])
    html = page(alice, reverse("conversation", args=[group.pk]))
    assert f'<span class="conversation-title" title="{title}">{title}</span>' in html


def test_the_api_tokens_table_scrolls_inside_its_own_box(alice):
    account_services.api_token_create(user=alice, name="w" * 100)
    html = page(alice, reverse("api_tokens"))
    assert re.search(r'<div class="table-wrap">\s*<table class="data stack-narrow">', html)


def test_quote_tables_put_the_price_before_the_company(alice):
    services.watchlist_create(owner=alice, name="Favourites", symbols=["ACME"])
    for url in (reverse("stock_list"), reverse("dashboard")):
        html = page(alice, url)
        price, company = positions(html, ">Price and day change</th>", ">Company</th>")
        assert price < company, url
        cells = positions(html, 'data-quote-symbol="ACME"', ">ACME Corporation</td>")
        assert cells == sorted(cells), url


def test_an_order_says_its_status_and_reason_without_repeating_itself(alice):
    order = services.order_place(user=alice, symbol="ACME", side="buy", type="limit", quantity=1, limit_price="1.00")
    services.order_cancel(user=alice, order_id=order.pk)
    html = page(alice, reverse("portfolio"))
    status = re.search(r'<td class="order-status">(.*?)</td>', html).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", status).split())
    assert text == "Canceled By the owner."


def test_an_open_order_on_a_phone_keeps_its_cancel_button_in_a_labelled_stacked_row(alice):
    services.order_place(user=alice, symbol="ACME", side="buy", type="limit", quantity=1, limit_price="1.00")
    html = page(alice, reverse("stock_detail", args=["ACME"]))
    assert '<table class="data orders stack-narrow">' in html
    assert '<td class="num" data-label="Shares">' in html
    # No whitespace in the actions cell, so it is :empty (and takes no room) once the order closes.
    assert re.search(r'<td class="order-actions"><form [^>]*data-cancel-form>', html)


def test_prices_on_pages_have_two_decimals(alice):
    Quote.objects.filter(stock__symbol="ACME").update(previous_close=Decimal("64.5364"))
    services.order_place(user=alice, symbol="ACME", side="buy", type="limit", quantity=1, limit_price="1.2345")
    html = page(alice, reverse("stock_detail", args=["ACME"]))
    assert "<dt>Previous close</dt><dd>$64.54</dd>" in html
    assert "$1.23" in html
    assert not re.search(r"\$[\d,]+\.\d{3}", html)
