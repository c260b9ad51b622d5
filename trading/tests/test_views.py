"""The trading pages through Django's test client: access, the order ticket, cancelling, CSV."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from trading import services
from trading.forms import ERROR_LIMIT_REQUIRED
from trading.models import Order, OrderStatus, Position, Watchlist
from trading.templatetags.market_format import money, percent, price, signed_money, updown
from trading.tests.conftest import buy, client_for, new_stock

pytestmark = pytest.mark.django_db

PAGES = ["dashboard", "stock_list", "portfolio", "portfolio_csv"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


@pytest.fixture
def hidden_stock(db):
    stock = new_stock("SECR")
    stock.visible_to_groups.add(Group.objects.create(name="premium"))
    return stock


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_stock_page_and_order_post_redirect(client, stock):
    assert client.get(reverse("stock_detail", args=["ACME"]))["Location"].startswith(reverse("login"))
    response = client.post(reverse("order_ticket", args=["ACME"]), {"side": "buy", "quantity": 1})
    assert response.status_code == 302
    assert not Order.objects.exists()


def test_pages_render_without_inline_scripts_or_styles(trader, stock):
    buy(trader, stock, quantity=3)
    services.watchlist_create(owner=trader, name="Tech", symbols=["ACME"])
    client = client_for(trader)
    for url in [
        reverse("dashboard"),
        reverse("stock_list"),
        reverse("portfolio"),
        reverse("stock_detail", args=["ACME"]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), url
        assert " style=" not in html, url
        assert " onclick=" not in html.lower(), url


def test_dashboard_shows_positions_watchlist_and_summary(trader, stock):
    buy(trader, stock, quantity=3)
    services.watchlist_create(owner=trader, name="Tech picks", symbols=["ACME"])
    html = client_for(trader).get(reverse("dashboard")).content.decode()
    assert "Tech picks" in html
    assert 'data-quote-symbol="ACME"' in html
    assert "$100.00" in html  # the quote
    assert "$300.00" in html  # value of the position


def test_stock_list_searches_and_filters_by_sector(trader, stock):
    other = new_stock("ZETA")
    other.company.sector = "Energy"
    other.company.save()
    client = client_for(trader)
    assert "ZETA" not in client.get(reverse("stock_list"), {"q": "acm"}).content.decode()
    filtered = client.get(reverse("stock_list"), {"sector": "energy"}).content.decode()
    assert "ZETA" in filtered
    assert ">ACME<" not in filtered


def test_a_hidden_stock_is_not_found_and_not_listed(trader, hidden_stock):
    client = client_for(trader)
    assert client.get(reverse("stock_detail", args=["SECR"])).status_code == 404
    assert client.post(reverse("order_ticket", args=["SECR"]), {"side": "buy", "quantity": 1}).status_code == 404
    assert client.post(reverse("stock_room", args=["SECR"])).status_code == 404
    assert "SECR" not in client.get(reverse("stock_list")).content.decode()


def ticket(**fields) -> dict:
    return {"side": "buy", "type": "market", "quantity": "2", "time_in_force": "day", **fields}


def test_the_order_ticket_reviews_then_places_once(trader, stock):
    client = client_for(trader)
    review = client.post(reverse("order_ticket", args=["ACME"]), ticket(step="review"))
    assert review.status_code == 200
    html = review.content.decode()
    assert "Review your order" in html
    assert "$200.00" in html  # 2 shares at $100
    assert not Order.objects.exists()
    client_order_id = re.search(r'name="client_order_id" value="([0-9a-f]{32})"', html).group(1)
    confirm = ticket(step="confirm", client_order_id=client_order_id)
    response = client.post(reverse("order_ticket", args=["ACME"]), confirm)
    assert response.status_code == 302
    # A second click on the same confirmation places nothing new.
    client.post(reverse("order_ticket", args=["ACME"]), confirm)
    assert Order.objects.count() == 1
    assert Position.objects.get(account__user=trader, stock=stock).quantity == 2
    page = client.get(response["Location"]).content.decode()
    assert "Bought 2 ACME at $100.00." in page


def test_ticket_validation_errors_are_shown_and_nothing_is_placed(trader, stock):
    client = client_for(trader)
    response = client.post(reverse("order_ticket", args=["ACME"]), ticket(type="limit", quantity="0", step="review"))
    assert response.status_code == 400
    html = response.content.decode()
    assert ERROR_LIMIT_REQUIRED in html
    assert "Ensure this value is greater than or equal to 1." in html
    assert not Order.objects.exists()


def test_a_refused_order_shows_the_services_reason(trader, stock):
    client = client_for(trader)
    response = client.post(reverse("order_ticket", args=["ACME"]), ticket(side="sell", quantity="5", step="confirm"))
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not Order.objects.filter(status=OrderStatus.NEW).exists()


def test_owner_cancels_an_open_limit_order(trader, stock):
    order = buy(trader, stock, quantity=1, type="limit", limit_price="50.00")
    client = client_for(trader)
    page = client.get(reverse("stock_detail", args=["ACME"])).content.decode()
    assert f'data-order-id="{order.pk}"' in page
    response = client.post(reverse("order_cancel", args=[order.pk]))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert trader.trading_account.__class__.objects.get(user=trader).reserved == Decimal("0")


def test_another_users_order_cannot_be_cancelled(trader, other, stock):
    order = buy(other, stock, quantity=1, type="limit", limit_price="50.00")
    response = client_for(trader).post(reverse("order_cancel", args=[order.pk]))
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW


def test_cancel_needs_post(trader, stock):
    order = buy(trader, stock, quantity=1, type="limit", limit_price="50.00")
    assert client_for(trader).get(reverse("order_cancel", args=[order.pk])).status_code == 405


def test_portfolio_csv_lists_the_cash_activity(trader, stock):
    buy(trader, stock, quantity=3)
    response = client_for(trader).get(reverse("portfolio_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    trade = [row for row in rows if row["symbol"] == "ACME"]
    assert len(trade) == 1
    assert (trade[0]["side"], trade[0]["quantity"], Decimal(trade[0]["amount"])) == ("buy", "3", Decimal("-300.00"))
    opening = [row for row in rows if row["kind"] == "opening"]
    assert opening
    assert Decimal(opening[0]["amount"]) > 0


def test_portfolio_csv_holds_only_the_viewers_rows(trader, other, stock):
    buy(other, stock, quantity=7)
    rows = list(csv.DictReader(io.StringIO(client_for(trader).get(reverse("portfolio_csv")).content.decode())))
    assert all(row["symbol"] != "ACME" for row in rows)


def test_formatting_filters():
    assert money(Decimal("-1234.5")) == "-$1,234.50"
    assert signed_money("1.005") == "+$1.01"
    assert signed_money("0") == "$0.00"
    # Every amount on a page has two decimals, a price with sub-cent digits too.
    assert price("12.3456") == "$12.35"
    assert price("64.5364") == "$64.54"
    assert price("12.30") == "$12.30"
    assert percent("-0.404") == "-0.40%"
    assert (updown("1"), updown("-0.01"), updown("0"), updown(None)) == ("up", "down", "flat", "flat")


# --- watchlists ------------------------------------------------------------------------------


def _flash(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def test_adding_from_a_stock_page_makes_a_first_watchlist_then_uses_it(trader, stock):
    client = client_for(trader)
    page = client.get(reverse("stock_detail", args=["ACME"])).content.decode()
    assert "Add to a new watchlist" in page
    response = client.post(reverse("watchlist_item_add"), {"symbol": "ACME", "next_symbol": "ACME"})
    assert response["Location"] == reverse("stock_detail", args=["ACME"])
    (watchlist,) = Watchlist.objects.filter(owner=trader)
    assert watchlist.name == "My watchlist"
    assert [item.stock.symbol for item in watchlist.items.all()] == ["ACME"]
    page = client.get(reverse("stock_detail", args=["ACME"])).content.decode()
    assert "Remove from My watchlist" in page
    assert "Add to" not in page
    new_stock("BOLT")
    client.post(reverse("watchlist_item_add"), {"symbol": "bolt"})
    assert sorted(i.stock.symbol for i in watchlist.items.all()) == ["ACME", "BOLT"]


def test_dashboard_creates_renames_edits_and_deletes_watchlists(trader, stock):
    client = client_for(trader)
    response = client.post(reverse("watchlist_create"), {"name": "Tech picks"}, follow=True)
    assert "Watchlist &#x27;Tech picks&#x27; created." in response.content.decode()
    watchlist = Watchlist.objects.get(owner=trader)
    client.post(reverse("watchlist_item_add"), {"watchlist": watchlist.pk, "symbol": "ACME"})
    html = client.get(reverse("dashboard")).content.decode()
    assert 'data-watchlist-symbol="ACME"' in html
    client.post(reverse("watchlist_rename", args=[watchlist.pk]), {"name": "Long term"})
    watchlist.refresh_from_db()
    assert watchlist.name == "Long term"
    client.post(reverse("watchlist_item_remove", args=[watchlist.pk, "ACME"]))
    assert not watchlist.items.exists()
    client.post(reverse("watchlist_delete", args=[watchlist.pk]))
    assert not Watchlist.objects.filter(owner=trader).exists()


def test_watchlist_errors_are_shown_and_change_nothing(trader, stock, hidden_stock):
    client = client_for(trader)
    services.watchlist_create(owner=trader, name="Tech picks", symbols=["ACME"])
    refusals = {
        "": "A watchlist needs a name.",
        "Tech picks": "You already have a watchlist named 'Tech picks'.",
        "x" * 81: "Watchlist names are at most 80 characters.",
    }
    for name, reason in refusals.items():
        response = client.post(reverse("watchlist_create"), {"name": name}, follow=True)
        assert response.status_code == 200
        assert _flash(response) == reason
    assert Watchlist.objects.filter(owner=trader).count() == 1
    # A hidden stock is "not found", and its page is never where the form leads back to.
    response = client.post(reverse("watchlist_item_add"), {"symbol": "SECR", "next_symbol": "SECR"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert _flash(response) == "No stock with symbol 'SECR'."
    assert Watchlist.objects.get(owner=trader).items.count() == 1


def test_another_users_watchlist_is_not_found(trader, other, stock):
    theirs = services.watchlist_create(owner=other, name="Private", symbols=["ACME"])
    client = client_for(trader)
    assert client.post(reverse("watchlist_rename", args=[theirs.pk]), {"name": "Mine now"}).status_code == 404
    assert client.post(reverse("watchlist_delete", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("watchlist_item_remove", args=[theirs.pk, "ACME"])).status_code == 404
    response = client.post(reverse("watchlist_item_add"), {"watchlist": theirs.pk, "symbol": "ACME"}, follow=True)
    assert "No such watchlist." in _flash(response)
    theirs.refresh_from_db()
    assert theirs.name == "Private"
    assert theirs.items.count() == 1
    assert client.get(reverse("watchlist_create")).status_code == 405


def test_portfolio_page_has_the_equity_chart(trader, stock):
    html = client_for(trader).get(reverse("portfolio")).content.decode()
    assert f'data-history-url="{reverse("api-portfolio-history")}"' in html
    assert "lightweight-charts.standalone.production.js" in html
    assert "js/equity.js" in html


def _ticket_values(html: str) -> dict:
    """What the ticket form shows: input values and the selected option of each select."""
    ticket_form = html[html.index('class="ticket"') :]
    ticket_form = ticket_form[: ticket_form.index("</form>")]
    values = dict(re.findall(r'<input type="(?:number|text)" name="(\w+)" value="([^"]*)"', ticket_form))
    for name, body in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', ticket_form, re.S):
        values[name] = re.search(r'<option value="(\w+)" selected>', body).group(1)
    return values


def test_changing_the_order_brings_back_the_ticket_as_entered(trader, stock):
    client = client_for(trader)
    entered = ticket(type="limit", quantity="7", limit_price="12.5", time_in_force="gtc")
    review = client.post(reverse("order_ticket", args=["ACME"]), {**entered, "step": "review"}).content.decode()
    assert "Review your order" in review
    edit_form = review[review.index('class="review-edit"') :]
    edit_form = edit_form[: edit_form.index("</form>")]
    posted = dict(re.findall(r'name="(\w+)" value="([^"]*)"', edit_form))
    assert posted["step"] == "edit"
    assert "client_order_id" not in posted
    response = client.post(reverse("order_ticket", args=["ACME"]), posted)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Review your order" not in html
    shown = _ticket_values(html)
    assert shown["quantity"] == "7"
    assert Decimal(shown["limit_price"]) == Decimal("12.5")
    assert (shown["side"], shown["type"], shown["time_in_force"]) == ("buy", "limit", "gtc")
    assert 'class="field-error"' not in html
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("limit_price", "error"),
    [
        ("0", "Ensure this value is greater than or equal to 0.0001."),
        ("-5", "Ensure this value is greater than or equal to 0.0001."),
        ("99999999999", "Ensure this value is less than or equal to 1000000."),
        ("1.123456", "Ensure that there are no more than 4 decimal places."),
    ],
)
def test_a_refused_limit_price_shows_only_its_own_error(trader, stock, limit_price, error):
    response = client_for(trader).post(
        reverse("order_ticket", args=["ACME"]), ticket(type="limit", limit_price=limit_price, step="review")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert ERROR_LIMIT_REQUIRED not in html


def test_review_refuses_a_buy_beyond_buying_power_with_money_formatted(trader, stock):
    client = client_for(trader)
    response = client.post(reverse("order_ticket", args=["ACME"]), ticket(quantity="1000000", step="review"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Review your order" not in html
    cash = trader.trading_account.__class__.objects.get(user=trader).buying_power
    assert f"This order needs $100,000,000.00 of buying power; the account has {money(cash)}." in html
    assert not Order.objects.exists()


def test_review_refuses_selling_more_shares_than_held(trader, stock):
    buy(trader, stock, quantity=3)
    response = client_for(trader).post(
        reverse("order_ticket", args=["ACME"]), ticket(side="sell", quantity="4", step="review")
    )
    assert response.status_code == 400
    assert "Cannot sell 4 ACME: 3 available" in response.content.decode()


def test_review_refuses_a_halted_or_untradable_stock(trader, stock):
    new_stock("HALT", halted=True)
    new_stock("GONE", tradable=False)
    client = client_for(trader)
    halted = client.post(reverse("order_ticket", args=["HALT"]), ticket(step="review"))
    assert halted.status_code == 400
    assert "Trading in HALT is halted." in halted.content.decode()
    gone = client.post(reverse("order_ticket", args=["GONE"]), ticket(step="review"))
    assert gone.status_code == 400
    assert "GONE cannot be traded." in gone.content.decode()


def test_placing_still_checks_what_changed_after_review(trader, stock):
    client = client_for(trader)
    review = client.post(reverse("order_ticket", args=["ACME"]), ticket(step="review")).content.decode()
    assert "Review your order" in review
    client_order_id = re.search(r'name="client_order_id" value="([0-9a-f]{32})"', review).group(1)
    services.stock_set_halted(stock=stock, halted=True)
    response = client.post(
        reverse("order_ticket", args=["ACME"]), ticket(step="confirm", client_order_id=client_order_id)
    )
    assert response.status_code == 400
    assert "Trading in ACME is halted." in response.content.decode()
    assert not Order.objects.exists()
