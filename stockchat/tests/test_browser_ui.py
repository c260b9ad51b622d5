"""The web UI in a real Chromium against a real daphne (HTTP and /ws/) on the PostgreSQL test database.

Covers signing in, buying and seeing the position, placing and cancelling a limit order,
two people chatting live, hostile message text staying inert, and a page carrying on
through a server restart. Screenshots of each main page at phone and desktop widths go
to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import pytest

from chat import services as chat_services
from stockchat.tests.browser import DESKTOP, OFFLINE, ONLINE, PASSWORD, PHONE, XSS, open_page, shoot
from trading import services

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The composer clears on the server's chat.sent reply, which may come after the message's broadcast.
COMPOSER_EMPTY = "() => document.querySelector('#id_body').value === ''"


def test_sign_in_buy_and_see_the_position(people, site, browser):
    with open_page(browser, site) as watched:
        page = watched.page
        page.goto(f"{site.url}/dashboard/")
        page.wait_for_url("**/accounts/login/**")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.goto(f"{site.url}/stocks/")
        page.wait_for_selector(ONLINE)
        page.click("a:text-is('ACME')")
        page.wait_for_url("**/stocks/ACME/")
        # 30 daily bars loaded for the test, and today's, which the quote opened.
        page.wait_for_selector("#price-chart[data-loaded-interval='1d'][data-bar-count='31']", state="attached")
        page.click("button[data-interval='1m']")
        page.wait_for_selector("#price-chart[data-loaded-interval='1m'][data-bar-count='1']", state="attached")
        assert page.get_attribute("button[data-interval='1m']", "aria-pressed") == "true"
        page.fill("#id_quantity", "3")
        page.click("button:has-text('Review order')")
        page.wait_for_selector("text=Review your order")
        assert "$300.00" in page.inner_text(".review")
        page.click("button:has-text('Place order')")
        page.wait_for_selector("text=Bought 3 ACME at $100.00.")
        page.goto(f"{site.url}/portfolio/")
        row = page.locator("tr[data-position-symbol=ACME]")
        assert row.locator("[data-position-field=quantity]").inner_text() == "3"
        assert "$300.00" in row.inner_text()


def test_order_ticket_errors_then_place_and_cancel_a_limit_order(people, site, browser):
    alice, _ = people
    with open_page(browser, site, alice) as watched:
        page = watched.page
        page.goto(f"{site.url}/stocks/ACME/")
        page.select_option("#id_type", "limit")
        page.click("button:has-text('Review order')")
        assert (
            page.locator(".field-limit_price .field-error").inner_text()
            == "A limit price is required for this order type."
        )
        page.fill("#id_limit_price", "80")
        page.fill("#id_quantity", "2")
        page.click("button:has-text('Review order')")
        page.click("button:has-text('Place order')")
        page.wait_for_selector("text=waiting to fill")
        page.wait_for_selector(ONLINE)
        row = page.locator("tr[data-order-id]")
        assert row.locator("[data-order-field=status]").inner_text() == "New"
        row.locator("button:has-text('Cancel')").click()
        page.wait_for_selector("text=canceled.")
        assert page.locator("tr[data-order-id]").count() == 0
        assert "No open orders." in page.inner_text("#open-orders-heading + *")


def test_two_people_chat_live_and_hostile_text_stays_inert(people, site, browser):
    alice, bob = people
    conversation = chat_services.direct_start(user=alice, other_username="bob")
    url = f"{site.url}/chat/{conversation.pk}/"
    with open_page(browser, site, alice) as a, open_page(browser, site, bob) as b:
        for watched in (a, b):
            watched.open(url)
        a.page.fill("#id_body", "Anyone watching $ACME today?")
        b.page.wait_for_selector("#typing-indicator:has-text('alice is typing')")
        a.page.press("#id_body", "Enter")
        # The mention is a link, so the body is matched by its text content.
        b.page.wait_for_selector("#message-list .body a[href='/stocks/ACME/']")
        assert b.page.locator("#message-list .body").last.text_content() == "Anyone watching $ACME today?"
        a.page.wait_for_function(COMPOSER_EMPTY)

        b.page.fill("#id_body", XSS)
        b.page.click("#composer button[type=submit]")
        received = a.page.locator("#message-list .chat-message").last.locator(".body")
        received.wait_for()
        a.page.wait_for_function(
            "text => [...document.querySelectorAll('#message-list .body')].some(e => e.textContent === text)", arg=XSS
        )
        for watched in (a, b):
            assert watched.page.locator("#message-list img").count() == 0
            assert watched.page.locator("#message-list script").count() == 0
            watched.page.reload()
            watched.page.wait_for_selector(ONLINE)
            assert watched.page.locator("#message-list .body").last.text_content() == XSS
            assert watched.page.locator("#message-list img, #message-list script").count() == 0
        shoot(a.page, "chat")
        # Every message once, in order, after the reload as before it.
        bodies = a.page.locator("#message-list .body").all_text_contents()
        assert bodies == ["Anyone watching $ACME today?", XSS]


def test_a_chat_page_carries_on_through_a_server_restart(people, site, browser):
    alice, bob = people
    conversation = chat_services.direct_start(user=alice, other_username="bob")
    with open_page(browser, site, alice) as watched:
        page = watched.page
        page.goto(f"{site.url}/chat/{conversation.pk}/")
        page.wait_for_selector(ONLINE)
        with watched.server_down():
            site.stop()
            # The badge says offline (it turns to "Connecting…" at each retry, so it is not read back).
            page.wait_for_selector(OFFLINE)
            # Written while alice's page had no socket: chat.resume must bring it once the server is back.
            chat_services.message_send(user=bob, conversation_id=conversation.pk, body="sent while you were away")
            site.start()
            page.wait_for_selector(ONLINE, timeout=60_000)
        page.wait_for_selector("#message-list .body:text-is('sent while you were away')")
        page.fill("#id_body", "back again")
        page.press("#id_body", "Enter")
        page.wait_for_selector("#message-list .body:text-is('back again')")
        page.wait_for_function(COMPOSER_EMPTY)
        assert page.locator("#message-list .body").all_text_contents() == ["sent while you were away", "back again"]
    # Refused connections while the server was down are expected; any other console error fails.


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_screenshots_of_the_main_pages(people, site, browser, viewport):
    alice, bob = people
    services.order_place(user=alice, symbol="ACME", side="buy", quantity=5)
    services.order_place(user=alice, symbol="BOLT", side="buy", type="limit", quantity=10, limit_price="40.00")
    services.watchlist_create(owner=alice, name="Favourites", symbols=["ACME", "BOLT"])
    group = chat_services.group_create(user=alice, title="Morning traders", member_usernames=["bob"])
    chat_services.message_send(user=alice, conversation_id=group.pk, body="Bought five ACME this morning.")
    chat_services.message_send(user=bob, conversation_id=group.pk, body="$ACME is up since the open.")
    with open_page(browser, site, alice, viewport=viewport) as watched:
        page = watched.page
        page.goto(f"{site.url}/dashboard/")
        page.wait_for_selector(ONLINE)
        assert page.locator(f"[data-conversation-id='{group.pk}'] [data-unread]").text_content() == "1 unread"
        shoot(page, "dashboard")
        for name, path in [("stocks", "/stocks/"), ("portfolio", "/portfolio/"), ("account", "/accounts/me/")]:
            page.goto(f"{site.url}{path}")
            page.wait_for_selector(ONLINE)
            shoot(page, name)
        page.goto(f"{site.url}/stocks/ACME/")
        page.wait_for_selector("#price-chart[data-bar-count='31']", state="attached")
        shoot(page, "stock")
        page.goto(f"{site.url}/chat/{group.pk}/")
        page.wait_for_selector(ONLINE)
        shoot(page, "chat-group")


def test_prices_and_the_chart_move_live(people, ticking_site, browser):
    alice, _ = people
    with open_page(browser, ticking_site, alice) as watched:
        page = watched.page
        page.goto(f"{ticking_site.url}/stocks/ACME/")
        page.wait_for_selector("#price-chart[data-loaded-interval='1d']", state="attached")
        first = page.inner_text(".last-price [data-field=price]")
        # The simulator's ticks reach the page: the price text changes in place, the chart's last bar follows.
        page.wait_for_function(
            "text => document.querySelector('.last-price [data-field=price]').textContent !== text", arg=first
        )
        page.wait_for_selector("#price-chart[data-last-close]", state="attached")
        change = page.locator(".last-price [data-field=change]")
        assert change.get_attribute("class") in {"up", "down", "flat"}
        assert change.inner_text().endswith("%)")


def test_an_order_cancelled_in_one_tab_updates_in_the_other(people, site, browser):
    alice, _ = people
    order = services.order_place(user=alice, symbol="ACME", side="buy", type="limit", quantity=1, limit_price="50.00")
    with open_page(browser, site, alice) as first, open_page(browser, site, alice) as second:
        for watched in (first, second):
            watched.page.goto(f"{site.url}/portfolio/")
            watched.page.wait_for_selector(ONLINE)
        first.page.locator(f"tr[data-order-id='{order.pk}'] button:has-text('Cancel')").click()
        first.page.wait_for_selector("text=canceled.")
        status = second.page.locator(f"tr[data-order-id='{order.pk}'] [data-order-field=status]")
        second.page.wait_for_function(
            "id => document.querySelector(`tr[data-order-id='${id}'] [data-order-field=status]`)"
            ".textContent === 'Canceled'",
            arg=order.pk,
        )
        assert status.inner_text() == "Canceled"
        assert second.page.locator(f"tr[data-order-id='{order.pk}'] button:has-text('Cancel')").count() == 0
        assert second.page.inner_text("[data-account-field=buying_power] >> nth=0") == "$100,000.00"
