"""Chat in a real Chromium: times in the reader's zone before and after a reload, linked stock
mentions, refused forms that keep their input, live member counts, blank messages, and signing out."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from chat import services as chat_services
from chat.models import Message
from stockchat.tests.browser import ONLINE, open_page
from testsupport.browser import prepare
from trading.models import LedgerEntry

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NEW_YORK = "America/New_York"


def local(moment, zone: str = NEW_YORK) -> str:
    """How the page should show ``moment`` in ``zone``: "Nov 30, 01:22 EST"."""
    moment = moment.astimezone(ZoneInfo(zone))
    return f"{moment:%b} {moment.day}, {moment:%H:%M} {moment:%Z}"


def test_times_read_in_the_readers_zone_live_and_after_a_reload(people, site, browser):
    alice, bob = people
    group = chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    chat_services.message_send(user=bob, conversation_id=group.pk, body="earlier")
    with open_page(browser, site, alice, timezone_id=NEW_YORK) as watched:
        page = watched.page
        page.goto(f"{site.url}/chat/{group.pk}/")
        page.wait_for_selector(ONLINE)
        page.fill("#id_body", "later")
        page.press("#id_body", "Enter")
        page.wait_for_selector("#message-list .body:text-is('later')")
        expected = [local(m.created_at) for m in Message.objects.filter(conversation=group).order_by("id")]
        times = page.locator("#message-list time")
        assert times.all_text_contents() == expected
        page.reload()
        page.wait_for_selector(ONLINE)
        assert times.all_text_contents() == expected

        # The portfolio's cash activity uses the same form.
        page.goto(f"{site.url}/portfolio/")
        entry = LedgerEntry.objects.filter(account__user=alice).order_by("id").first()
        assert page.locator("#activity-heading ~ * time").first.text_content() == local(entry.created_at)


def test_stock_mentions_link_live_and_after_a_reload_and_unknown_ones_stay_text(people, site, browser):
    alice, bob = people
    group = chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    url = f"{site.url}/chat/{group.pk}/"
    text = "Watching $ACME, not $NOPE <b>$BOLT</b>"
    with open_page(browser, site, alice) as a, open_page(browser, site, bob) as b:
        for watched in (a, b):
            watched.open(url)
        a.page.fill("#id_body", text)
        a.page.press("#id_body", "Enter")
        for watched in (a, b):
            watched.page.wait_for_function(
                "text => [...document.querySelectorAll('#message-list .body')].some(e => e.textContent === text)",
                arg=text,
            )
            body = watched.page.locator("#message-list .body").last
            for _ in range(2):
                links = body.locator("a")
                assert links.all_text_contents() == ["$ACME", "$BOLT"]
                assert [links.nth(n).get_attribute("href") for n in range(2)] == ["/stocks/ACME/", "/stocks/BOLT/"]
                assert body.locator("b").count() == 0
                watched.page.reload()
                watched.page.wait_for_selector(ONLINE)
                body = watched.page.locator("#message-list .body").last
        b.page.locator("#message-list .body a:text-is('$ACME')").last.click()
        b.page.wait_for_url(f"{site.url}/stocks/ACME/")


def test_refused_new_conversation_forms_keep_what_was_typed(people, site, browser):
    alice, _ = people
    with open_page(browser, site, alice) as watched:
        page = watched.page
        page.goto(f"{site.url}/chat/")
        page.click("summary:has-text('New group')")
        page.fill("#id_group_title", "QA desk")
        page.fill("#id_group_members", "nosuch bob")
        page.click("button:has-text('Create')")
        page.wait_for_selector("#id_group_members_error:has-text(\"No user named 'nosuch'.\")")
        assert page.locator("#id_group_title").input_value() == "QA desk"
        assert page.locator("#id_group_members").input_value() == "nosuch bob"
        assert page.locator("#id_group_members").is_visible()

        page.click("summary:has-text('New direct message')")
        page.fill("#id_direct_username", "bobb")
        page.click("button:has-text('Start')")
        page.wait_for_selector("#id_direct_username_error:has-text(\"No user named 'bobb'.\")")
        assert page.locator("#id_direct_username").input_value() == "bobb"
        assert page.locator("#id_direct_username").is_visible()


def test_the_member_count_follows_leaves_and_joins_live(people, site, browser, make_user):
    alice, bob = people
    make_user("carol")
    group = chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    url = f"{site.url}/chat/{group.pk}/"
    count = "() => document.querySelector('[data-member-count]').textContent"
    with open_page(browser, site, alice) as a, open_page(browser, site, bob) as b:
        for watched in (a, b):
            watched.open(url)
        assert a.page.evaluate(count) == "2"
        b.page.click("button:has-text('Leave group')")
        a.page.wait_for_selector(f"#member-list [data-member-id='{bob.pk}']", state="detached")
        a.page.wait_for_function(f"{count} === '1'")
        # Another tab of the owner adds someone: this one counts them in.
        other = a.page.context.new_page()
        prepare(other)
        other.goto(url)
        other.fill("#id_member_username", "carol")
        other.click("button:has-text('Add')")
        other.wait_for_selector(".message-success:has-text('carol was added.')")
        a.page.wait_for_function(f"{count} === '2'")
        assert a.page.locator("#member-list [data-member-id]").count() == 2


def test_a_blank_message_says_why_it_was_not_sent(people, site, browser):
    alice, _ = people
    group = chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    with open_page(browser, site, alice) as watched:
        page = watched.page
        page.goto(f"{site.url}/chat/{group.pk}/")
        page.wait_for_selector(ONLINE)
        page.fill("#id_body", "    ")
        page.press("#id_body", "Enter")
        page.wait_for_selector("#composer + .form-errors:has-text('A message needs some text.')")
        assert page.locator("#id_body").input_value() == "    "
        assert not Message.objects.filter(conversation=group).exists()


def test_signing_out_lands_on_the_home_page(people, site, browser):
    alice, _ = people
    with open_page(browser, site, alice) as watched:
        page = watched.page
        page.goto(f"{site.url}/dashboard/")
        page.wait_for_selector(ONLINE)
        page.click("button:has-text('Sign out')")
        page.wait_for_load_state()
        page.wait_for_selector(".nav-user a:has-text('Sign in')")
        assert page.url == f"{site.url}/"


def test_signing_out_in_another_tab_sends_this_one_to_sign_in(people, site, browser):
    alice, _ = people
    with open_page(browser, site, alice) as watched:
        page = watched.page
        page.goto(f"{site.url}/dashboard/")
        page.wait_for_selector(ONLINE)
        other = page.context.new_page()
        prepare(other)
        other.goto(f"{site.url}/portfolio/")
        other.wait_for_selector(ONLINE)
        other.click("button:has-text('Sign out')")
        other.wait_for_selector(".nav-user a:has-text('Sign in')")
        assert other.url == f"{site.url}/"
        # The tab that did not sign out learns from its socket and offers to sign in again.
        page.wait_for_url(f"{site.url}/accounts/login/?next=%2Fdashboard%2F")
