"""Replies (``reply_to``) and ``@username`` mentions: one service, the same over REST, the socket
and GraphQL; members only; mention counts beside unread counts; constant query counts."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from strawberry.django.test import GraphQLTestClient

from chat import selectors, services
from chat.models import Mention, Message
from chat.tests.conftest import client_for, make_world
from core.errors import NotFound, ServiceError
from stockchat.asgi import application
from testsupport.socket_contract import ContractCommunicator


def send(user, conversation, body, **extra) -> Message:
    return services.message_send(user=user, conversation_id=conversation.pk, body=body, **extra)


def mention_counts(user) -> dict[int, int]:
    return {s.conversation.pk: s.mention_count for s in selectors.conversation_list(viewer=user)}


# --- replies ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reply_quotes_the_author_and_an_excerpt_of_the_message_it_answers(world):
    question = send(world.owner, world.group, "Who is buying   ACME\nthis week? " + "x" * 300)
    answer = send(world.member, world.group, "me", reply_to=question.pk)
    data = selectors.messages_data(viewer=world.owner, messages=[Message.objects.get(pk=answer.pk)])[0]
    quote = data["reply_to"]
    assert quote["id"] == question.pk
    assert quote["author"] == {"id": world.owner.pk, "username": "alice"}
    assert quote["excerpt"].startswith("Who is buying ACME this week? xxx")
    assert len(quote["excerpt"]) == selectors.REPLY_EXCERPT_LENGTH
    assert quote["excerpt"].endswith("…")
    assert quote["deleted"] is False
    # The quote shows the answered message as it is now.
    services.message_delete(user=world.owner, message_id=question.pk)
    data = selectors.messages_data(viewer=world.owner, messages=[Message.objects.get(pk=answer.pk)])[0]
    assert data["reply_to"] == {"id": question.pk, "author": quote["author"], "excerpt": "", "deleted": True}


@pytest.mark.django_db
def test_a_reply_to_a_message_of_another_conversation_is_refused_and_saves_nothing(world):
    elsewhere = send(world.owner, world.direct, "private")
    before = Message.objects.count()
    for reply_to in (elsewhere.pk, 10**12, "abc", -1, 0, True):
        with pytest.raises(ServiceError) as exc:
            send(world.member, world.group, "answer", reply_to=reply_to)
        assert exc.value.code == services.INVALID_REPLY_TO
        assert exc.value.status == 400
    assert Message.objects.count() == before


@pytest.mark.django_db
def test_an_outsider_cannot_reply_into_a_conversation_even_quoting_its_own_message(world, make_user):
    inside = send(world.owner, world.group, "members only")
    outsider_room = services.group_create(user=world.outsider, title="Mine")
    own = send(world.outsider, outsider_room, "mine")
    for reply_to in (inside.pk, own.pk):
        with pytest.raises(NotFound) as exc:
            send(world.outsider, world.group, "sneaking in", reply_to=reply_to)
        assert exc.value.code == selectors.CONVERSATION_NOT_FOUND
    assert not Message.objects.filter(conversation=world.group, author=world.outsider).exists()


@pytest.mark.django_db
def test_rest_reply_to_answers_400_for_another_conversation_and_404_for_outsiders(world):
    question = send(world.owner, world.group, "question")
    elsewhere = send(world.owner, world.direct, "private")
    url = f"/api/v1/conversations/{world.group.pk}/messages"
    ok = client_for(world.member).post(
        url, {"body": "answer", "reply_to": question.pk}, content_type="application/json"
    )
    assert ok.status_code == 201
    assert ok.json()["reply_to"]["id"] == question.pk
    assert ok.json()["reply_to"]["excerpt"] == "question"
    refused = client_for(world.member).post(
        url, {"body": "answer", "reply_to": elsewhere.pk}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_reply_to"
    outsider = client_for(world.outsider).post(
        url, {"body": "@bob hi", "reply_to": question.pk}, content_type="application/json"
    )
    assert outsider.status_code == 404
    assert outsider.json()["code"] == "conversation_not_found"
    assert not Mention.objects.filter(message__author=world.outsider).exists()


@pytest.mark.django_db
def test_graphql_send_message_takes_reply_to_and_lists_mentions(world):
    question = send(world.owner, world.group, "question")
    elsewhere = send(world.owner, world.direct, "private")
    query = """mutation($c: ID!, $body: String!, $r: ID) {
      sendMessage(conversationId: $c, body: $body, replyTo: $r) {
        replyTo { id excerpt author { username } } mentions { username }
      }
    }"""
    client = GraphQLTestClient(client_for(world.member))
    sent = client.query(query, {"c": str(world.group.pk), "body": "@alice yes", "r": str(question.pk)}).data
    assert sent["sendMessage"] == {
        "replyTo": {"id": str(question.pk), "excerpt": "question", "author": {"username": "alice"}},
        "mentions": [{"username": "alice"}],
    }
    refused = client.query(
        query, {"c": str(world.group.pk), "body": "no", "r": str(elsewhere.pk)}, assert_no_errors=False
    )
    assert [e["extensions"]["code"] for e in refused.errors] == ["invalid_reply_to"]


# --- mentions -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_mentions_name_members_only_whatever_the_case_and_never_the_author(world):
    message = send(world.owner, world.group, "@BOB look. @alice @carol @nobody and mail@bob.example, @bob.")
    assert message.mentions == [{"id": world.member.pk, "username": "bob"}]
    assert list(Mention.objects.filter(message=message).values_list("user_id", flat=True)) == [world.member.pk]
    data = selectors.message_broadcast_data(message)
    assert data["mentions"] == [{"id": world.member.pk, "username": "bob"}]


@pytest.mark.django_db
def test_editing_redoes_the_mentions_and_deleting_drops_them(world, make_user):
    dave = make_user("dave")
    services.member_add(actor=world.owner, conversation_id=world.group.pk, username="dave")
    message = send(world.owner, world.group, "@bob have a look")
    edited = services.message_edit(user=world.owner, message_id=message.pk, body="@dave have a look")
    assert edited.mentions == [{"id": dave.pk, "username": "dave"}]
    assert list(Mention.objects.filter(message=message).values_list("user_id", flat=True)) == [dave.pk]
    services.message_delete(user=world.owner, message_id=message.pk)
    message.refresh_from_db()
    assert message.mentions == []
    assert not Mention.objects.filter(message=message).exists()


@pytest.mark.django_db
def test_unread_mentions_are_counted_apart_and_cleared_by_reading(world):
    send(world.owner, world.group, "plain")
    mention = send(world.owner, world.group, "@bob over to you")
    gone = send(world.owner, world.group, "@bob never mind")
    services.message_delete(user=world.owner, message_id=gone.pk)
    send(world.owner, world.direct, "@bob direct")
    assert mention_counts(world.member) == {world.group.pk: 1, world.direct.pk: 1}
    assert mention_counts(world.owner) == {world.group.pk: 0, world.direct.pk: 0}
    summary = selectors.conversation_summary_data(
        selectors.conversation_summary(viewer=world.member, conversation_id=world.group.pk)
    )
    assert (summary["unread_count"], summary["mention_count"]) == (2, 1)
    services.conversation_mark_read(user=world.member, conversation_id=world.group.pk, message_id=mention.pk)
    assert mention_counts(world.member)[world.group.pk] == 0
    listed = client_for(world.member).get("/api/v1/conversations").json()
    assert {c["id"]: c["mention_count"] for c in listed} == {world.group.pk: 0, world.direct.pk: 1}


# --- query counts -------------------------------------------------------------------------------


def _queries(func) -> int:
    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured)


@pytest.mark.django_db
def test_history_with_replies_and_mentions_costs_the_same_at_10x_the_rows(world):
    client = client_for(world.member)
    url = f"/api/v1/conversations/{world.group.pk}/messages?limit=200"

    def add(rows: int) -> None:
        for n in range(rows):
            first = send(world.owner, world.group, f"@bob question {n}")
            send(world.member, world.group, f"@alice answer {n}", reply_to=first.pk)

    def page_and_list() -> None:
        assert client.get(url).status_code == 200
        assert client.get("/api/v1/conversations").status_code == 200
        assert client.get(f"/chat/{world.group.pk}/").status_code == 200

    add(1)
    small = _queries(page_and_list)
    add(9)
    assert _queries(page_and_list) == small


# --- the socket -------------------------------------------------------------------------------


@pytest.fixture
async def socket_world(make_user):
    return await database_sync_to_async(make_world)(make_user)


async def _connect(ws_headers, user) -> ContractCommunicator:
    communicator = ContractCommunicator(application, "/ws/", headers=await ws_headers(user))
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator


async def _reply(socket, wanted: str) -> dict:
    while True:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] in (wanted, "error"):
            return frame


@pytest.mark.django_db(transaction=True)
async def test_socket_send_carries_reply_to_and_mentions_live_and_refuses_another_conversations(
    socket_world, ws_headers
):
    world = socket_world
    question = await database_sync_to_async(send)(world.owner, world.group, "question")
    elsewhere = await database_sync_to_async(send)(world.owner, world.direct, "private")
    alice = await _connect(ws_headers, world.owner)
    bob = await _connect(ws_headers, world.member)
    carol = await _connect(ws_headers, world.outsider)
    await alice.send_json_to({"type": "chat.subscribe", "conversation_ids": [world.group.pk], "ref": "s"})
    assert (await _reply(alice, "chat.subscribed"))["ref"] == "s"
    frame = {"type": "chat.send", "conversation_id": world.group.pk, "body": "@alice yes", "reply_to": question.pk}
    await bob.send_json_to({**frame, "ref": 1})
    sent = (await _reply(bob, "chat.sent"))["message"]
    assert sent["reply_to"]["id"] == question.pk
    live = (await _reply(alice, "chat.message.created"))["message"]
    assert live["id"] == sent["id"]
    assert live["reply_to"] == {
        "id": question.pk,
        "author": {"id": world.owner.pk, "username": "alice"},
        "excerpt": "question",
        "deleted": False,
    }
    assert live["mentions"] == [{"id": world.owner.pk, "username": "alice"}]
    await bob.send_json_to({**frame, "reply_to": elsewhere.pk, "ref": 2})
    assert (await _reply(bob, "chat.sent"))["code"] == "invalid_reply_to"
    await bob.send_json_to({**frame, "reply_to": "1", "ref": 3})
    assert (await _reply(bob, "chat.sent"))["code"] == "invalid_reply_to"
    await carol.send_json_to({**frame, "ref": 4})
    assert (await _reply(carol, "chat.sent"))["code"] == "conversation_not_found"
    for socket in (alice, bob, carol):
        await socket.disconnect()


# --- moderation and the page ------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_delete_others_messages_with_moderate_and_no_one_else_can(world, make_user):
    message = send(world.member, world.group, "spam")
    url = f"/api/v1/messages/{message.pk}?moderate=true"
    refused = client_for(world.owner).delete(url)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_the_author")
    assert client_for(world.outsider).delete(url).status_code == 404
    moderator = make_user("mod")
    moderator.is_staff = True
    moderator.save(update_fields=["is_staff"])
    services.member_add(actor=world.owner, conversation_id=world.group.pk, username="mod")
    # Without moderate, staff are members like any other.
    assert client_for(moderator).delete(f"/api/v1/messages/{message.pk}").status_code == 403
    assert client_for(moderator).delete(url).status_code == 204
    message.refresh_from_db()
    assert message.deleted_at is not None
    page = client_for(moderator).get(f"/chat/{world.group.pk}/").content.decode()
    assert "data-moderator" in page
    assert "data-moderator" not in client_for(world.owner).get(f"/chat/{world.group.pk}/").content.decode()


@pytest.mark.django_db
def test_the_page_marks_mentions_the_read_marker_and_counts_mentions_apart(world):
    quoted = send(world.owner, world.group, "plain")
    services.conversation_mark_read(user=world.member, conversation_id=world.group.pk, message_id=quoted.pk)
    send(world.owner, world.group, "@bob <b>look</b>")
    send(world.owner, world.direct, "@bob elsewhere")
    send(world.owner, world.group, "answer", reply_to=quoted.pk)
    html = client_for(world.member).get(f"/chat/{world.group.pk}/").content.decode()
    assert f'data-read-marker="{quoted.pk}"' in html
    assert '<span class="mention mention-me">@bob</span> &lt;b&gt;look&lt;/b&gt;' in html
    assert "mentions-me" in html
    assert f'<a class="reply-quote" href="#message-{quoted.pk}" data-reply-to="{quoted.pk}">' in html
    assert '<span class="badge badge-mention" data-mentions="1">@1' in html
    # Opening the conversation read it: the next visit draws no line from the old marker.
    again = client_for(world.member).get(f"/chat/{world.group.pk}/").content.decode()
    assert f'data-read-marker="{Message.objects.filter(conversation=world.group).latest("id").pk}"' in again


@pytest.mark.django_db(transaction=True)
async def test_socket_edit_and_delete_go_through_the_services_live_for_members(socket_world, ws_headers):
    world = socket_world
    mine = await database_sync_to_async(send)(world.owner, world.group, "tpyo")
    alice = await _connect(ws_headers, world.owner)
    bob = await _connect(ws_headers, world.member)
    carol = await _connect(ws_headers, world.outsider)
    await bob.send_json_to({"type": "chat.subscribe", "conversation_ids": [world.group.pk], "ref": "s"})
    assert (await _reply(bob, "chat.subscribed"))["ref"] == "s"
    await alice.send_json_to({"type": "chat.edit", "message_id": mine.pk, "body": "typo @bob", "ref": 1})
    changed = await _reply(alice, "chat.changed")
    assert (changed["ref"], changed["message"]["body"]) == (1, "typo @bob")
    assert changed["message"]["mentions"] == [{"id": world.member.pk, "username": "bob"}]
    live = await _reply(bob, "chat.message.edited")
    assert (live["message"]["id"], live["message"]["edited_at"] is not None) == (mine.pk, True)
    for socket, frame, code in (
        (bob, {"type": "chat.edit", "message_id": mine.pk, "body": "hacked"}, "not_the_author"),
        (bob, {"type": "chat.delete", "message_id": mine.pk, "moderate": True}, "not_the_author"),
        (carol, {"type": "chat.delete", "message_id": mine.pk}, "message_not_found"),
        (carol, {"type": "chat.edit", "message_id": str(mine.pk), "body": "x"}, "invalid"),
    ):
        await socket.send_json_to(frame)
        assert (await _reply(socket, "chat.changed"))["code"] == code
    await alice.send_json_to({"type": "chat.delete", "message_id": mine.pk, "ref": 2})
    assert (await _reply(alice, "chat.changed"))["message"]["deleted"] is True
    assert (await _reply(bob, "chat.message.deleted"))["message"]["body"] == ""
    for socket in (alice, bob, carol):
        await socket.disconnect()
