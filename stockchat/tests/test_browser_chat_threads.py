"""Chat read and written as in Slack or Zulip, by two people in two browsers: runs of one author's
messages under one header, day separators, the "new" line, jump to latest, replies whose quote
leads to (and loads) what they answer, @mention suggestions and highlights, edits and deletes live
for the other, Enter and Shift+Enter, drafts that survive a reload, and layouts that hold at 390 px
and 1280 px in the light and the dark theme (screenshots under /tmp/chatui-*.png)."""

from __future__ import annotations

import tempfile
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from chat import services as chat_services
from chat.models import Message
from chat.tests.conftest import pile_of_messages
from stockchat.tests.browser import DESKTOP, ONLINE, PHONE, open_page, shoot
from testsupport.browser import prepare

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LONG_TOKEN = "https://example.com/" + "a1b2c3d4" * 40
CODE = "def f(x):\n    return {'key': [x, x * 2, x ** 3]}  # " + "=" * 120

NO_SIDEWAYS_SCROLL = """() => {
  const list = document.getElementById('message-list');
  return list.scrollWidth <= list.clientWidth + 1 && document.documentElement.scrollWidth <= window.innerWidth + 1;
}"""


def body_texts(page) -> list[str]:
    return page.locator("#message-list .chat-message:not(.deleted) .body").all_text_contents()


def message_with_body(page, text: str):
    """The message whose body reads ``text`` once it is shown (mentions and links split the text
    into several nodes, which ``:text-is`` does not join)."""
    found = page.wait_for_function(
        """text => [...document.querySelectorAll('#message-list .chat-message')]
          .find(e => e.querySelector('.body')?.textContent === text)?.id""",
        arg=text,
    )
    return page.locator(f"#{found.json_value()}")


def hover_action(page, message_id: int, action: str) -> None:
    item = page.locator(f"#message-{message_id}")
    item.hover()
    item.locator(f".message-actions button[data-action={action}]").click()


def test_two_people_reply_mention_edit_and_delete_live(people, site, browser):
    alice, bob = people
    group = chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    direct = chat_services.direct_start(user=alice, other_username="bob")
    # Yesterday's messages, then a run of alice's within five minutes, then one later.
    old = chat_services.message_send(user=bob, conversation_id=group.pk, body="from yesterday")
    # Times at a fixed hour of today and yesterday (the pages read in UTC), whenever the test runs.
    now = timezone.now().astimezone(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    Message.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=1))
    run = [chat_services.message_send(user=alice, conversation_id=group.pk, body=f"run {n}") for n in range(3)]
    for n, message in enumerate(run):
        Message.objects.filter(pk=message.pk).update(created_at=now + timedelta(minutes=2 * n))
    later = chat_services.message_send(user=alice, conversation_id=group.pk, body="ten minutes on")
    Message.objects.filter(pk=later.pk).update(created_at=now + timedelta(minutes=14))
    url = f"{site.url}/chat/{group.pk}/"
    with (
        open_page(browser, site, alice, timezone_id="UTC") as a,
        open_page(browser, site, bob, timezone_id="UTC") as b,
    ):
        for watched in (a, b):
            watched.open(url)
        page = b.page
        # Grouping: the second and third of the run hang under the first's header; the later one does not.
        for message, continued in ((run[0], False), (run[1], True), (run[2], True), (later, False)):
            assert ("continued" in page.locator(f"#message-{message.pk}").get_attribute("class")) is continued
        assert page.locator(".day-divider").all_text_contents() == ["Yesterday", "Today"]
        assert page.locator(f"#message-{old.pk}").evaluate("e => e.previousElementSibling.textContent") == "Yesterday"
        avatars = page.locator(f"#message-{run[0].pk} .avatar, #message-{later.pk} .avatar")
        assert avatars.all_text_contents() == ["AL", "AL"]
        assert avatars.nth(0).get_attribute("class") == avatars.nth(1).get_attribute("class")

        # Reply: bob answers alice's first message; the quote shows her name and its text.
        hover_action(page, run[0].pk, "reply")
        page.wait_for_selector("#reply-bar:not([hidden]) :text('run 0')")
        page.fill("#id_body", "answering you")
        page.press("#id_body", "Enter")
        reply = a.page.locator(".chat-message:has(.body:text-is('answering you'))")
        reply.wait_for()
        assert reply.locator(".reply-quote").text_content() == "alice run 0"
        assert page.locator("#reply-bar").is_hidden()
        saved = Message.objects.get(body="answering you")
        assert saved.reply_to_id == run[0].pk

        # Mentions: alice types "@b", picks bob from the suggestions with Enter, and sends.
        a.page.locator("#id_body").press_sequentially("thanks @b")
        a.page.wait_for_selector("#mention-picker li[data-username=bob][aria-selected=true]")
        a.page.press("#id_body", "Enter")
        assert a.page.locator("#id_body").input_value() == "thanks @bob "
        a.page.locator("#id_body").press_sequentially("see this")
        a.page.press("#id_body", "Enter")
        mention = message_with_body(page, "thanks @bob see this")
        assert "mentions-me" in mention.get_attribute("class")
        assert mention.locator(".mention.mention-me").text_content() == "@bob"
        mine = message_with_body(a.page, "thanks @bob see this")
        assert mine.locator(".mention").get_attribute("class") == "mention"

        # A mention elsewhere is counted apart in bob's sidebar.
        other = a.page.context.new_page()
        prepare(other)
        other.goto(f"{site.url}/chat/{direct.pk}/")
        other.wait_for_selector(ONLINE)
        other.fill("#id_body", "@bob in private")
        other.press("#id_body", "Enter")
        page.wait_for_selector(f"#conversation-list [data-conversation-id='{direct.pk}'] [data-mentions='1']")

        # Edit and delete, live for the other.
        mentioned = Message.objects.get(body="thanks @bob see this")
        hover_action(a.page, mentioned.pk, "edit")
        editor = a.page.locator(f"#message-{mentioned.pk} .edit-form textarea")
        editor.fill("thanks @bob, edited")
        a.page.screenshot(path=str(Path(tempfile.gettempdir()) / "chatui-editing.png"))
        editor.press("Enter")
        edited = page.locator(f"#message-{mentioned.pk}")
        assert message_with_body(page, "thanks @bob, edited").get_attribute("id") == f"message-{mentioned.pk}"
        assert edited.locator(".edited").text_content() == "(edited)"
        hover_action(a.page, later.pk, "delete")
        a.page.screenshot(path=str(Path(tempfile.gettempdir()) / "chatui-deleting.png"))
        a.page.locator(f"#message-{later.pk} .delete-confirm button:text-is('Delete')").click()
        page.wait_for_selector(f"#message-{later.pk}.deleted .tombstone")
        assert page.locator(f"#message-{later.pk} .body").text_content() == "(message deleted)"
        page.locator(f"#message-{saved.pk}").hover()
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "chatui-conversation-bob.png"), full_page=True)
        # Bob may not edit or delete alice's messages: the page does not offer it.
        page.locator(f"#message-{run[1].pk}").hover()
        assert page.locator(f"#message-{run[1].pk} .message-actions [data-action=edit]").is_hidden()
        assert page.locator(f"#message-{run[1].pk} .message-actions [data-action=delete]").is_hidden()

        # Enter sends, Shift+Enter starts a new line.
        page.locator("#id_body").press_sequentially("first line")
        page.press("#id_body", "Shift+Enter")
        page.locator("#id_body").press_sequentially("second line")
        page.press("#id_body", "Enter")
        message_with_body(a.page, "first line\nsecond line")

        # The draft survives a reload, per conversation.
        page.locator("#id_body").press_sequentially("half written")
        page.reload()
        page.wait_for_selector(ONLINE)
        assert page.locator("#id_body").input_value() == "half written"
        page.goto(f"{site.url}/chat/{direct.pk}/")
        page.wait_for_selector(ONLINE)
        assert page.locator("#id_body").input_value() == ""


def test_new_line_jump_to_latest_and_a_quote_that_loads_older_history(people, site, browser):
    alice, bob = people
    group = chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    first = chat_services.message_send(user=alice, conversation_id=group.pk, body="the very first")
    Message.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=2))
    pile_of_messages(bob, group, 80)
    chat_services.conversation_mark_read(user=bob, conversation_id=group.pk, message_id=Message.objects.latest("id").pk)
    news = [chat_services.message_send(user=alice, conversation_id=group.pk, body=f"news {n}") for n in range(30)]
    chat_services.message_send(user=alice, conversation_id=group.pk, body="about the first one", reply_to=first.pk)
    with open_page(browser, site, bob) as b:
        page = b.page
        b.open(f"{site.url}/chat/{group.pk}/")
        line = page.locator("#message-list .new-divider")
        assert line.count() == 1
        assert line.evaluate("e => e.nextElementSibling.dataset.messageId") == str(news[0].pk)
        # Opened at the line, with the newest below: the jump control is offered and works.
        page.wait_for_selector("#jump-latest:not([hidden])")
        page.click("#jump-latest")
        page.wait_for_selector("#jump-latest[hidden]", state="attached")
        # The quote answers a message older than the page shows: following it loads history back to it.
        assert page.locator(f"#message-{first.pk}").count() == 0
        page.locator(".reply-quote").last.click()
        target = page.locator(f"#message-{first.pk}")
        target.wait_for()
        page.wait_for_function(
            """id => {
              const list = document.getElementById('message-list').getBoundingClientRect();
              const item = document.getElementById('message-' + id).getBoundingClientRect();
              return item.top >= list.top && item.bottom <= list.bottom;
            }""",
            arg=first.pk,
        )


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_long_messages_and_code_wrap_at_every_width_and_theme(people, site, browser, scheme, viewport):
    alice, bob = people
    group = chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    question = chat_services.message_send(
        user=bob, conversation_id=group.pk, body="Anyone holding $ACME into the close?"
    )
    Message.objects.filter(pk=question.pk).update(created_at=timezone.now() - timedelta(days=1))
    for body in ("Yes, @bob, 40 shares", "and a link: " + LONG_TOKEN, CODE):
        chat_services.message_send(user=alice, conversation_id=group.pk, body=body)
    chat_services.message_send(user=bob, conversation_id=group.pk, body="Nice. Same here.", reply_to=question.pk)
    chat_services.message_send(user=bob, conversation_id=group.pk, body="@alice what is your stop?")
    with open_page(browser, site, alice, viewport=viewport, color_scheme=scheme) as a:
        a.open(f"{site.url}/chat/{group.pk}/")
        page = a.page
        page.locator("#id_body").press_sequentially("@b")
        page.wait_for_selector("#mention-picker:not([hidden])")
        page.locator(".chat-message").nth(1).hover()
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        shoot(page, f"chat-threads-{scheme}")
        page.screenshot(
            path=str(Path(tempfile.gettempdir()) / f"chatui-{viewport['width']}-{scheme}.png"), full_page=True
        )
