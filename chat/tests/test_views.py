"""The chat pages through Django's test client: members only, escaping, the composer."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from chat import services
from chat.models import Conversation, Message
from chat.selectors import UNREAD_COUNT_CAP
from chat.tests.conftest import client_for, pile_of_messages

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for url in [reverse("chat"), reverse("conversation", args=[world.group.pk]), reverse("account")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_member_sees_the_conversation_and_its_messages(world):
    services.message_send(user=world.owner, conversation_id=world.group.pk, body="Morning, $ACME looks busy")
    response = client_for(world.member).get(reverse("conversation", args=[world.group.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'Morning, <a href="{reverse("stock_detail", args=["ACME"])}">$ACME</a> looks busy' in html
    assert "Traders" in html
    assert not INLINE_SCRIPT.search(html)
    assert " style=" not in html


def test_an_outsider_gets_404_for_the_page_and_the_composer(world):
    client = client_for(world.outsider)
    assert client.get(reverse("conversation", args=[world.group.pk])).status_code == 404
    response = client.post(reverse("conversation_post", args=[world.group.pk]), {"body": "let me in"})
    assert response.status_code == 404
    assert not Message.objects.filter(body="let me in").exists()


def test_message_bodies_are_escaped(world):
    services.message_send(user=world.owner, conversation_id=world.group.pk, body=PAYLOAD)
    html = client_for(world.member).get(reverse("conversation", args=[world.group.pk])).content.decode()
    assert PAYLOAD not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    dashboard = client_for(world.member).get(reverse("dashboard")).content.decode()
    assert "<img src=x" not in dashboard


def test_the_composer_posts_once_per_client_message_id(world):
    client = client_for(world.member)
    page = client.get(reverse("conversation", args=[world.group.pk])).content.decode()
    client_message_id = re.search(r'name="client_message_id" value="([0-9a-f]{32})"', page).group(1)
    data = {"body": "hello there", "client_message_id": client_message_id}
    response = client.post(reverse("conversation_post", args=[world.group.pk]), data)
    assert response.status_code == 302
    client.post(reverse("conversation_post", args=[world.group.pk]), data)
    assert Message.objects.filter(body="hello there").count() == 1


def test_an_empty_message_shows_an_error_and_keeps_the_draft(world):
    client = client_for(world.member)
    response = client.post(reverse("conversation_post", args=[world.group.pk]), {"body": "   "})
    assert response.status_code == 400
    too_long = "x" * 4001
    response = client.post(reverse("conversation_post", args=[world.group.pk]), {"body": too_long})
    assert response.status_code == 400
    assert too_long in response.content.decode()
    assert not Message.objects.filter(conversation=world.group).exists()


def test_viewing_marks_read_and_unread_badges_show(world):
    services.message_send(user=world.owner, conversation_id=world.group.pk, body="one")
    client = client_for(world.member)
    badge = re.compile(rf'data-conversation-id="{world.group.pk}">.*?data-unread="(\d+)"', re.DOTALL)
    assert badge.search(client.get(reverse("dashboard")).content.decode()).group(1) == "1"
    client.get(reverse("conversation", args=[world.group.pk]))
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert f'data-conversation-id="{world.group.pk}"' in dashboard
    assert "data-unread=" not in dashboard


@pytest.mark.parametrize("page", ["chat", "dashboard"])
def test_unread_badges_read_99_plus_from_the_cap(world, page):
    pile_of_messages(world.owner, world.group, UNREAD_COUNT_CAP + 20)
    pile_of_messages(world.owner, world.direct, UNREAD_COUNT_CAP - 1)
    html = client_for(world.member).get(reverse(page)).content.decode()
    assert f'data-unread-cap="{UNREAD_COUNT_CAP}"' in html

    def badge(conversation) -> str:
        item = re.search(rf'data-conversation-id="{conversation.pk}".*?</li>', html, re.DOTALL).group(0)
        return re.search(r'<span class="badge" (data-unread="\d+">[^<]*)<', item).group(1)

    assert badge(world.group) == 'data-unread="100">99+'
    assert badge(world.direct) == 'data-unread="99">99'


def test_start_a_direct_conversation_and_a_stock_room(world):
    client = client_for(world.outsider)
    response = client.post(reverse("chat_direct_new"), {"username": "alice"})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    response = client.post(reverse("chat_direct_new"), {"username": "nobody-here"})
    assert response.status_code == 400
    room = client.post(reverse("stock_room", args=["ACME"]))
    assert room.status_code == 302
    assert "$ACME" in client.get(room["Location"]).content.decode()
    assert client.post(reverse("stock_room", args=["SECR"])).status_code == 404


def test_group_creation_from_the_page(world):
    client = client_for(world.outsider)
    response = client.post(reverse("chat_group_new"), {"title": "Night owls", "members": "alice, bob"})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "Night owls" in html
    assert "alice" in html
    assert "bob" in html


def _form(html: str, element_id: str) -> str:
    """The ``<details>`` element with ``element_id``, as markup."""
    return re.search(rf'<details[^>]*id="{element_id}".*?</details>', html, re.DOTALL).group(0)


def test_a_refused_group_comes_back_open_with_what_was_typed_and_the_error_by_its_field(world):
    client = client_for(world.owner)
    response = client.post(reverse("chat_group_new"), {"title": "Night <owls>", "members": "nosuch bob"})
    assert response.status_code == 400
    form = _form(response.content.decode(), "new-group")
    assert re.match(r"<details[^>]*\bopen\b", form)
    assert 'value="Night &lt;owls&gt;"' in form
    assert 'value="nosuch bob"' in form
    members_error = re.search(r'<span class="field-error" id="id_group_members_error"[^>]*>([^<]*)</span>', form)
    assert members_error.group(1) == "No user named &#x27;nosuch&#x27;."
    assert 'aria-describedby="id_group_members_error"' in form
    assert "id_group_title_error" not in form
    assert not Conversation.objects.filter(title="Night <owls>").exists()

    response = client.post(reverse("chat_group_new"), {"title": "   ", "members": "bob"})
    assert response.status_code == 400
    form = _form(response.content.decode(), "new-group")
    title_error = re.search(r'<span class="field-error" id="id_group_title_error"[^>]*>([^<]*)</span>', form)
    assert title_error.group(1) == services.GROUP_TITLE_REQUIRED
    assert 'value="bob"' in form
    # The other form stays closed and empty.
    assert not re.match(r"<details[^>]*\bopen\b", _form(response.content.decode(), "new-direct"))


def test_a_refused_direct_message_keeps_the_username_and_shows_why(world):
    response = client_for(world.owner).post(reverse("chat_direct_new"), {"username": "bobb"})
    assert response.status_code == 400
    form = _form(response.content.decode(), "new-direct")
    assert re.match(r"<details[^>]*\bopen\b", form)
    assert 'value="bobb"' in form
    assert 'id="id_direct_username_error"' in form
    assert "No user named &#x27;bobb&#x27;." in form


def test_mentions_of_stocks_the_reader_may_see_are_links_and_the_rest_stays_text(world):
    body = "Buy $ACME. Or $SECR? Not $NOPE, nor a$ACME; <b>$ACME</b>"
    services.message_send(user=world.owner, conversation_id=world.group.pk, body=body)
    acme = reverse("stock_detail", args=["ACME"])
    secret = reverse("stock_detail", args=["SECR"])

    html = client_for(world.member).get(reverse("conversation", args=[world.group.pk])).content.decode()
    rendered = re.search(r'<p class="body">(.*?)</p>', html, re.DOTALL).group(1)
    assert rendered == (
        f'Buy <a href="{acme}">$ACME</a>. Or $SECR? Not $NOPE, nor a$ACME; '
        f'&lt;b&gt;<a href="{acme}">$ACME</a>&lt;/b&gt;'
    )

    # A reader who may see the restricted stock gets its link too.
    world.member.groups.add(world.premium)
    html = client_for(world.member).get(reverse("conversation", args=[world.group.pk])).content.decode()
    assert f'Or <a href="{secret}">$SECR</a>?' in html


def test_message_times_name_their_zone_without_the_script(world):
    from datetime import UTC, datetime

    message = services.message_send(user=world.owner, conversation_id=world.group.pk, body="timed")
    Message.objects.filter(pk=message.pk).update(created_at=datetime(2026, 11, 30, 6, 22, 5, tzinfo=UTC))
    html = client_for(world.member).get(reverse("conversation", args=[world.group.pk])).content.decode()
    assert '<time datetime="2026-11-30T06:22:05+00:00">Nov 30, 06:22 UTC</time>' in html


def test_account_page(world):
    response = client_for(world.owner).get(reverse("account"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "alice@example.com" in html.replace("<wbr>", "")  # the address may break at its seams
    assert reverse("api_tokens") in html


def test_owner_adds_and_removes_members_from_the_page(world):
    owner = client_for(world.owner)
    page = owner.get(reverse("conversation", args=[world.group.pk])).content.decode()
    assert 'name="username"' in page
    assert "Add a member" in page
    response = owner.post(reverse("conversation_member_add", args=[world.group.pk]), {"username": "carol"}, follow=True)
    assert "carol was added." in response.content.decode()
    assert world.group.memberships.filter(user=world.outsider).exists()
    response = owner.post(reverse("conversation_member_remove", args=[world.group.pk, world.outsider.pk]), follow=True)
    assert "The member was removed." in response.content.decode()
    assert not world.group.memberships.filter(user=world.outsider).exists()


def test_member_management_errors_are_shown_and_change_nothing(world):
    owner = client_for(world.owner)
    response = owner.post(
        reverse("conversation_member_add", args=[world.group.pk]), {"username": "nobody"}, follow=True
    )
    assert response.status_code == 200
    assert "nobody" in response.content.decode()
    assert world.group.memberships.count() == 2
    # A plain member sees no controls, and posting anyway is refused with the service's reason.
    member = client_for(world.member)
    page = member.get(reverse("conversation", args=[world.group.pk])).content.decode()
    assert "Add a member" not in page
    response = member.post(reverse("conversation_member_remove", args=[world.group.pk, world.owner.pk]), follow=True)
    assert world.group.memberships.filter(user=world.owner).exists()
    assert "owner" in response.content.decode().lower()
    # An outsider does not learn the conversation exists.
    outsider = client_for(world.outsider)
    assert (
        outsider.post(reverse("conversation_member_add", args=[world.group.pk]), {"username": "carol"}).status_code
        == 404
    )
    assert outsider.post(reverse("conversation_leave", args=[world.group.pk])).status_code == 404


def test_member_pages_need_post(world):
    owner = client_for(world.owner)
    assert owner.get(reverse("conversation_member_add", args=[world.group.pk])).status_code == 405
    assert owner.get(reverse("conversation_leave", args=[world.group.pk])).status_code == 405


def test_leaving_a_group_hands_it_over_and_returns_to_the_list(world):
    response = client_for(world.owner).post(reverse("conversation_leave", args=[world.group.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("chat")
    assert not world.group.memberships.filter(user=world.owner).exists()
    assert world.group.memberships.get(user=world.member).role == "owner"


def test_the_stock_page_shows_its_room_once_joined_and_posts_return_to_it(world):
    client = client_for(world.member)
    stock_page = reverse("stock_detail", args=["ACME"])
    before = client.get(stock_page).content.decode()
    assert "Join the ACME room" in before
    assert 'id="message-list"' not in before
    response = client.post(reverse("stock_room", args=["ACME"]), {"next": "stock"})
    assert response["Location"] == stock_page
    page = client.get(stock_page).content.decode()
    assert 'id="message-list"' in page
    assert 'name="next" value="stock"' in page
    room_id = int(re.search(r'data-conversation-id="(\d+)"', page).group(1))
    assert room_id == Conversation.objects.get(stock=world.acme).pk
    response = client.post(
        reverse("conversation_post", args=[room_id]), {"body": f"From the page {PAYLOAD}", "next": "stock"}
    )
    assert response["Location"] == stock_page
    page = client.get(stock_page).content.decode()
    assert "From the page &lt;script&gt;" in page
    assert PAYLOAD not in page
    # "next" leads only to the stock page of the conversation's own stock.
    response = client.post(reverse("conversation_post", args=[world.group.pk]), {"body": "hi", "next": "stock"})
    assert response["Location"] == reverse("conversation", args=[world.group.pk])
