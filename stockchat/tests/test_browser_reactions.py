"""Reactions and shared trades in two real browsers: one reacts, the other sees it live and toggles
it; a fill shared from the order confirmation shows up in the other browser as a card whose price
moves with the market. Screenshots at phone and desktop width, light and dark."""

from __future__ import annotations

import pytest

from chat import services as chat_services
from stockchat.tests.browser import DESKTOP, ONLINE, PHONE, SCREENSHOTS, open_page

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THUMBS = "#message-list .reaction[data-reaction=thumbs_up]"


def count_of(page, selector: str) -> str:
    return page.locator(f"{selector} .reaction-count").text_content()


def test_a_reaction_and_a_shared_fill_reach_the_other_browser_live(people, ticking_site, browser):
    alice, bob = people
    site = ticking_site
    group = chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    chat_services.message_send(user=alice, conversation_id=group.pk, body="Adding to ACME before the close?")
    url = f"{site.url}/chat/{group.pk}/"
    with open_page(browser, site, alice) as a, open_page(browser, site, bob) as b:
        for watched in (a, b):
            watched.open(url)

        # bob reacts through the picker; alice sees the count and who, live.
        message = b.page.locator("#message-list li[data-message-id]").first
        message.hover()
        message.locator("[data-reaction-add]").click()
        b.page.click(".reaction-picker [data-reaction-choice=thumbs_up]")
        b.page.wait_for_selector(f"{THUMBS}[aria-pressed=true]")
        a.page.wait_for_selector(THUMBS)
        assert count_of(a.page, THUMBS) == "1"
        assert a.page.get_attribute(THUMBS, "aria-pressed") == "false"
        assert "bob reacted with :thumbs_up:" in a.page.get_attribute(THUMBS, "title")

        # alice toggles it on and off; bob's page follows each time.
        a.page.click(THUMBS)
        b.page.wait_for_function("s => document.querySelector(s + ' .reaction-count')?.textContent === '2'", arg=THUMBS)
        assert a.page.get_attribute(THUMBS, "aria-pressed") == "true"
        assert "bob, alice reacted" in b.page.get_attribute(THUMBS, "title")
        a.page.click(THUMBS)
        b.page.wait_for_function("s => document.querySelector(s + ' .reaction-count')?.textContent === '1'", arg=THUMBS)
        a.page.wait_for_selector(f"{THUMBS}[aria-pressed=false]")

        # A reload shows what the live frames showed.
        a.page.reload()
        a.page.wait_for_selector(THUMBS)
        assert count_of(a.page, THUMBS) == "1"

        # bob buys on the stock page and shares the fill from the confirmation.
        stock = b.page.context.new_page()
        stock.goto(f"{site.url}/stocks/ACME/")
        stock.wait_for_selector(ONLINE)
        stock.fill("#ticket input[name=quantity]", "3")
        stock.click("#ticket button:has-text('Review order')")
        stock.click("#ticket button:has-text('Place order')")
        stock.wait_for_selector(ONLINE)  # the page's scripts (share.js among them) have run
        stock.click(".order-confirmation .share-button")
        stock.wait_for_selector(".share-picker [data-share-to]")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        stock.locator("#ticket").screenshot(path=str(SCREENSHOTS / "reactions-share-picker.png"))
        stock.click(".share-picker [data-share-to]:has-text('Desk')")
        stock.wait_for_selector(".share-picker:has-text('Shared to Desk.')")
        stock.close()

        # alice's open page shows the card, and its price now moves with the market.
        card = "#message-list .share-card"
        a.page.wait_for_selector(f"{card}:has-text('ACME')")
        assert "BUY" in a.page.locator(card).text_content()
        assert a.page.locator(f"{card} dd").nth(0).text_content() == "3"
        now = f"{card} [data-field=price]"
        a.page.wait_for_function("s => /^\\$\\d/.test(document.querySelector(s).textContent)", arg=now)
        first = a.page.locator(now).text_content()
        a.page.wait_for_function("([s, v]) => document.querySelector(s).textContent !== v", arg=[now, first])

        # Reactions on the card too, then screenshots beside Slack: light and dark, phone and desktop.
        a.page.locator(f"{card}").hover()
        a.page.locator("#message-list li[data-message-id]").last.locator("[data-reaction-add]").click()
        a.page.click(".reaction-picker [data-reaction-choice=tada]")
        b.page.wait_for_selector("#message-list .reaction[data-reaction=tada]")
        b.page.locator("#message-list .reaction[data-reaction=tada]").click()
        a.page.wait_for_function(
            "() => document.querySelector('#message-list .reaction[data-reaction=tada] .reaction-count')"
            "?.textContent === '2'"
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for scheme in ("light", "dark"):
            a.page.emulate_media(color_scheme=scheme)
            for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
                a.page.set_viewport_size(size)
                a.page.locator("#message-list li[data-message-id]").last.scroll_into_view_if_needed()
                a.page.screenshot(path=str(SCREENSHOTS / f"reactions-{name}-{scheme}.png"))
