"""More of the web UI in a real Chromium: a stock's room beside its chart, chat history read back
by scrolling, presence and member management, watchlists, the equity chart and the order ticket."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services as account_services
from chat import services as chat_services
from chat.models import Message
from chat.selectors import UNREAD_COUNT_CAP
from chat.tests.conftest import pile_of_messages
from stockchat.tests.browser import DESKTOP, ONLINE, PHONE, open_page, shoot
from trading import selectors, services

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_stock_room_beside_the_chart_is_live_for_both_people(people, site, browser):
    alice, bob = people
    chat_services.stock_room_join(user=bob, symbol="ACME")
    with open_page(browser, site, alice) as a, open_page(browser, site, bob) as b:
        a.page.goto(f"{site.url}/stocks/ACME/")
        a.page.click("button:has-text('Join the ACME room')")
        a.page.wait_for_url("**/stocks/ACME/")
        b.page.goto(f"{site.url}/stocks/ACME/")
        for watched in (a, b):
            watched.page.wait_for_selector(ONLINE)
        a.page.fill("#room #id_body", "Who else is watching the open?")
        a.page.press("#room #id_body", "Enter")
        b.page.wait_for_selector("#room .body:text-is('Who else is watching the open?')")
        # The room lives next to the chart and the ticket, on one page, at both widths.
        assert b.page.locator("#price-chart").count() == 1
        assert b.page.locator("#ticket").count() == 1
        shoot(b.page, "stock-room")
        # Turned to a phone's width after loading, the page reflows to one column that fits.
        b.page.set_viewport_size(PHONE)
        b.page.wait_for_function("() => document.documentElement.scrollWidth <= window.innerWidth")
        ticket, chart = b.page.locator("#ticket").bounding_box(), b.page.locator("#price-chart").bounding_box()
        assert chart["y"] < ticket["y"]
        assert ticket["y"] < b.page.locator("#open-orders-heading").bounding_box()["y"]
        shoot(b.page, "stock-room")


def test_older_messages_load_when_scrolling_back_in_order_and_once(people, site, browser, settings):
    alice, bob = people
    settings.STOCKCHAT_CHAT_SENDS_PER_MINUTE = 1000
    group = chat_services.group_create(user=alice, title="Long thread", member_usernames=["bob"])
    for n in range(1, 121):
        chat_services.message_send(user=alice if n % 2 else bob, conversation_id=group.pk, body=f"message {n}")
    # Written yesterday, as far as the server's per-minute send limit is concerned.
    Message.objects.filter(conversation=group).update(created_at=timezone.now() - timedelta(days=1))
    with open_page(browser, site, bob) as watched, open_page(browser, site, alice) as sender:
        page = watched.page
        page.goto(f"{site.url}/chat/{group.pk}/")
        page.wait_for_selector(ONLINE)
        bodies = page.locator("#message-list .body")
        assert bodies.count() == 50
        # Scroll back to the top twice: 50 more, then the last 20, each page above the previous one.
        for loaded in ("50", "70"):
            page.eval_on_selector("#message-list", "list => { list.scrollTop = 0; }")
            page.wait_for_selector(f"#message-list[data-older-loaded='{loaded}']", state="attached")
        assert bodies.all_text_contents() == [f"message {n}" for n in range(1, 121)]
        assert page.locator("[data-older]").is_hidden()
        # A message that arrives now still goes at the end, once.
        sender.page.goto(f"{site.url}/chat/{group.pk}/")
        sender.page.wait_for_selector(ONLINE)
        sender.page.fill("#id_body", "message 121")
        sender.page.press("#id_body", "Enter")
        page.wait_for_selector("#message-list .body:text-is('message 121')")
        assert bodies.all_text_contents()[-2:] == ["message 120", "message 121"]


def test_presence_shows_who_is_here_and_who_has_left(people, site, browser):
    alice, bob = people
    group = chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    url = f"{site.url}/chat/{group.pk}/"
    with open_page(browser, site, bob) as b:
        b.page.goto(url)
        b.page.wait_for_selector(ONLINE)
        alice_dot = f"#member-list [data-member-id='{alice.pk}'] .presence"
        assert b.page.get_attribute(alice_dot, "data-presence") == "unknown"
        with open_page(browser, site, alice) as a:
            a.page.goto(url)
            a.page.wait_for_selector(ONLINE)
            b.page.wait_for_selector(f"{alice_dot}[data-presence=online]")
            # Bob was there first; he answers alice's arrival, so she sees him at once too.
            a.page.wait_for_selector(f"#member-list [data-member-id='{bob.pk}'] .presence[data-presence=online]")
        b.page.wait_for_selector(f"{alice_dot}[data-presence=offline]")
        assert b.page.get_attribute(alice_dot, "aria-label") == "offline"


def test_an_owner_adds_and_removes_a_member_and_everyone_sees_it(people, site, browser, make_user):
    alice, bob = people
    carol = make_user("carol")
    services.account_open(user=carol)
    group = chat_services.group_create(user=alice, title="Morning traders", member_usernames=["bob"])
    url = f"{site.url}/chat/{group.pk}/"
    with open_page(browser, site, alice) as a, open_page(browser, site, bob) as b:
        for watched in (a, b):
            watched.open(url)
        assert b.page.locator("#id_member_username").count() == 0
        a.page.fill("#id_member_username", "nobody-here")
        a.page.click("button:has-text('Add')")
        a.page.wait_for_selector(".message-error:has-text(\"No user named 'nobody-here'.\")")
        a.page.fill("#id_member_username", "carol")
        a.page.click("button:has-text('Add')")
        a.page.wait_for_selector(".message-success:has-text('carol was added.')")
        b.page.wait_for_selector(f"#member-list [data-member-id='{carol.pk}']:has-text('carol')")
        a.page.wait_for_selector(ONLINE)
        a.page.click(f"#member-list [data-member-id='{carol.pk}'] button:has-text('Remove')")
        a.page.wait_for_selector(".message-success:has-text('The member was removed.')")
        b.page.wait_for_selector(f"#member-list [data-member-id='{carol.pk}']", state="detached")
        assert not group.memberships.filter(user=carol).exists()


def test_watchlists_are_made_and_edited_from_the_pages(people, site, browser):
    alice, _ = people
    with open_page(browser, site, alice) as watched:
        page = watched.page
        page.goto(f"{site.url}/stocks/BOLT/")
        page.click("button:has-text('Add to a new watchlist')")
        page.wait_for_selector(".message-success:has-text(\"BOLT is on 'My watchlist'.\")")
        assert page.locator("button:has-text('Remove from My watchlist')").count() == 1
        page.goto(f"{site.url}/dashboard/")
        page.wait_for_selector(ONLINE)
        page.fill("input[name=symbol]", "acme")
        page.click("button:text-is('Add')")
        page.wait_for_selector("tr[data-watchlist-symbol=ACME]")
        assert page.locator("tr[data-watchlist-symbol=ACME] [data-field=price]").inner_text() == "$100.00"
        page.fill("input[name=symbol]", "NOPE")
        page.click("button:text-is('Add')")
        page.wait_for_selector(".message-error:has-text(\"No stock with symbol 'NOPE'.\")")
        page.click("button[aria-label='Remove BOLT from My watchlist']")
        page.wait_for_selector("tr[data-watchlist-symbol=BOLT]", state="detached")
        assert page.locator("tr[data-watchlist-symbol]").count() == 1


def test_the_portfolio_equity_chart_and_the_order_ticket_fields(people, site, browser):
    alice, _ = people
    services.order_place(user=alice, symbol="ACME", side="buy", quantity=5)
    with open_page(browser, site, alice) as watched:
        page = watched.page
        # The chart draws its axis labels on a canvas: record the text it draws.
        page.add_init_script(
            """const fillText = CanvasRenderingContext2D.prototype.fillText;
            window.drawnText = [];
            CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
                window.drawnText.push(String(text));
                return fillText.call(this, text, ...rest);
            };"""
        )
        page.goto(f"{site.url}/portfolio/")
        for days in (30, 90):
            if days != 30:
                page.click(f"button[data-equity-days='{days}']")
            # One point per day since the account opened, as the API computes them.
            points = len(selectors.portfolio_history(viewer=alice, days=days))
            assert points >= 1
            chart = f"#equity-chart[data-loaded-days='{days}'][data-point-count='{points}']"
            page.wait_for_selector(chart, state="attached")
        assert page.get_attribute("button[data-equity-days='90']", "aria-pressed") == "true"
        # The price axis: several distinct amounts in dollars and cents (an account that has not
        # moved a dollar once read "$99,999" on every line).
        page.wait_for_function("() => window.drawnText.filter((t) => t.startsWith('$')).length >= 3")
        labels = set(page.evaluate("() => window.drawnText.filter((t) => t.startsWith('$'))"))
        assert all(re.fullmatch(r"\$[\d,]+\.\d\d", label) for label in labels), labels
        assert len(labels) >= 3, labels

        page.goto(f"{site.url}/stocks/ACME/")
        limit, stop = page.locator(".field-limit_price"), page.locator(".field-stop_price")
        assert limit.is_hidden()
        assert stop.is_hidden()
        page.select_option("#id_type", "limit")
        assert limit.is_visible()
        assert stop.is_hidden()
        page.select_option("#id_type", "stop_limit")
        assert limit.is_visible()
        assert stop.is_visible()
        page.select_option("#id_type", "market")
        assert limit.is_hidden()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_page_is_wider_than_the_screen(people, site, browser, viewport):
    alice, bob = people
    # Names people choose, as long as the forms allow and without a space to break at.
    alice.username = "a" * 150
    alice.save(update_fields=["username"])
    watchlist = "w" * 80
    services.watchlist_create(owner=alice, name=watchlist, symbols=["ACME", "BOLT"])
    group = chat_services.group_create(user=alice, title="g" * 100, member_usernames=["bob"])
    chat_services.message_send(user=bob, conversation_id=group.pk, body="A long word: " + "x" * 300)
    account_services.api_token_create(user=alice, name="t" * 100)
    services.order_place(user=alice, symbol="BOLT", side="buy", type="limit", quantity=1, limit_price="1.00")
    paths = ["/", "/dashboard/", "/stocks/", "/stocks/ACME/", "/stocks/BOLT/", "/portfolio/", f"/chat/{group.pk}/"]
    with open_page(browser, site, alice, viewport=viewport) as watched:
        page = watched.page
        for path in [*paths, "/accounts/me/", "/accounts/tokens/"]:
            page.goto(f"{site.url}{path}")
            page.wait_for_selector(ONLINE)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} is {overflow}px wider than the {viewport['width']}px screen"
            # The header keeps the whole name for a pointer to show, whatever the screen shows of it.
            assert page.get_attribute(".nav-username", "title") == alice.username
        shoot(page, "long-names-chat")


def on_screen(page, selector: str) -> None:
    """Every element ``selector`` matches is within the screen's width and not clipped by a
    scrolling box around it (the table's .table-wrap)."""
    boxes = page.eval_on_selector_all(
        selector,
        """(elements) => elements.map((element) => {
            const box = element.getBoundingClientRect();
            const wrap = element.closest('.table-wrap')?.getBoundingClientRect() || { left: 0, right: innerWidth };
            return { left: box.left, right: box.right, wrapLeft: wrap.left, wrapRight: wrap.right };
        })""",
    )
    assert boxes, selector
    width = page.viewport_size["width"]
    for box in boxes:
        assert box["left"] >= 0, f"{selector} off screen: {box}"
        assert box["right"] <= width, f"{selector} off screen: {box}"
        assert box["left"] >= box["wrapLeft"], f"{selector} clipped: {box}"
        assert box["right"] <= box["wrapRight"] + 0.5, f"{selector} clipped: {box}"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_prices_and_the_cancel_button_are_on_screen_without_scrolling_sideways(people, site, browser, viewport):
    alice, _ = people
    services.watchlist_create(owner=alice, name="Favourites", symbols=["ACME", "BOLT"])
    services.order_place(user=alice, symbol="ACME", side="buy", quantity=5)
    order = services.order_place(user=alice, symbol="BOLT", side="buy", type="limit", quantity=1, limit_price="1.00")
    with open_page(browser, site, alice, viewport=viewport) as watched:
        page = watched.page
        for path in ["/stocks/", "/dashboard/"]:
            page.goto(f"{site.url}{path}")
            on_screen(page, "table.quotes [data-field=price]")
            on_screen(page, "table.quotes [data-field=change]")
        on_screen(page, "button[aria-label='Remove BOLT from Favourites']")
        on_screen(page, "tr[data-position-symbol] td:last-child")
        for path in ["/stocks/BOLT/", "/portfolio/"]:
            page.goto(f"{site.url}{path}")
            on_screen(page, f"button[aria-label='Cancel order {order.pk}']")
            on_screen(page, f"tr[data-order-id='{order.pk}'] [data-order-field=status]")
        shoot(page, "open-order")
        page.click(f"button[aria-label='Cancel order {order.pk}']")
        page.wait_for_selector(f"tr[data-order-id='{order.pk}'] .status-canceled")


def tab_order(page, selectors: list[str]) -> list[str]:
    """``selectors`` in the order Tab reaches the first focusable element inside each."""
    page.locator("body").focus()
    reached: list[str] = []
    for _ in range(200):
        page.keyboard.press("Tab")
        hit = page.evaluate("(selectors) => selectors.find((s) => document.activeElement.closest(s))", selectors)
        if hit and hit not in reached:
            reached.append(hit)
        if len(reached) == len(selectors):
            break
    return reached


def visual_order(page, selectors: list[str]) -> list[str]:
    """``selectors`` in reading order on screen: top to bottom, then left to right."""
    boxes = {s: page.locator(s).first.bounding_box() for s in selectors}
    return sorted(selectors, key=lambda s: (round(boxes[s]["y"]), boxes[s]["x"]))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_tab_follows_what_the_screen_shows_first(people, site, browser, viewport):
    alice, _ = people
    services.order_place(user=alice, symbol="ACME", side="buy", type="limit", quantity=1, limit_price="1.00")
    chat_services.stock_room_join(user=alice, symbol="ACME")
    group = chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    with open_page(browser, site, alice, viewport=viewport) as watched:
        page = watched.page
        page.goto(f"{site.url}/stocks/ACME/")
        page.wait_for_selector(ONLINE)
        sections = [
            ".chart-card",
            "#ticket",
            "#room",
            "section:has(#open-orders-heading)",
            "section:has(#profile-heading)",
        ]
        # The about section holds nothing focusable here (no website): Tab stops at the four before it.
        assert tab_order(page, sections[:4]) == sections[:4]
        if viewport == PHONE:
            # One column: exactly the order Tab takes.
            assert visual_order(page, sections) == sections
        else:
            # Two columns: the chart, orders and about on the left; the ticket and room on the right.
            chart, ticket = page.locator(".chart-card").bounding_box(), page.locator("#ticket").bounding_box()
            assert ticket["x"] > chart["x"] + chart["width"] - 1
            assert abs(ticket["y"] - chart["y"]) < 1

        page.goto(f"{site.url}/chat/{group.pk}/")
        page.wait_for_selector(ONLINE)
        parts = [".chat-pane", ".chat-sidebar"]
        assert tab_order(page, parts) == parts
        assert visual_order(page, parts) == parts


def test_unread_badges_count_live_and_clear_when_read_elsewhere(people, site, browser):
    alice, bob = people
    group = chat_services.group_create(user=alice, title="Morning traders", member_usernames=["bob"])
    direct = chat_services.direct_start(user=alice, other_username="bob")
    with open_page(browser, site, alice) as a, open_page(browser, site, bob) as b:
        a.open(f"{site.url}/chat/{group.pk}/")
        b.open(f"{site.url}/dashboard/")
        badge = f"[data-conversation-list] [data-conversation-id='{group.pk}'] [data-unread]"
        for n in (1, 2):
            a.page.fill("#id_body", f"news {n}")
            a.page.press("#id_body", "Enter")
            b.page.wait_for_selector(f"{badge}[data-unread='{n}']")
        assert b.page.text_content(badge) == "2 unread"
        assert b.page.text_content(f"[data-conversation-id='{group.pk}'] [data-snippet]") == "alice: news 2"
        # The busiest conversation moves to the top.
        first = b.page.get_attribute("[data-conversation-list] [data-conversation-id] >> nth=0", "data-conversation-id")
        assert first == str(group.pk)
        assert b.page.locator(f"[data-conversation-id='{direct.pk}'] [data-unread]").count() == 0
        # Bob reads it in another tab: the dashboard's badge goes.
        with open_page(browser, site, bob) as reader:
            reader.page.goto(f"{site.url}/chat/{group.pk}/")
            b.page.wait_for_selector(badge, state="detached")


def test_a_live_unread_badge_reads_99_plus_at_the_cap(people, site, browser):
    alice, bob = people
    group = chat_services.group_create(user=alice, title="Busy room", member_usernames=["bob"])
    pile_of_messages(alice, group, UNREAD_COUNT_CAP - 2)
    with open_page(browser, site, alice) as a, open_page(browser, site, bob) as b:
        a.open(f"{site.url}/chat/{group.pk}/")
        b.open(f"{site.url}/dashboard/")
        badge = f"[data-conversation-list] [data-conversation-id='{group.pk}'] [data-unread]"
        assert b.page.text_content(badge) == "98 unread"
        # The third message past 98 finds the count at the cap: it stays there.
        for body, n, shown in (("first", 99, "99 unread"), ("second", 100, "99+ unread"), ("third", 100, "99+ unread")):
            a.page.fill("#id_body", body)
            a.page.press("#id_body", "Enter")
            b.page.wait_for_function(
                "([selector, text]) => document.querySelector(selector)?.textContent === text",
                arg=[f"[data-conversation-id='{group.pk}'] [data-snippet]", f"alice: {body}"],
            )
            assert b.page.get_attribute(badge, "data-unread") == str(n)
            assert b.page.text_content(badge) == shown
