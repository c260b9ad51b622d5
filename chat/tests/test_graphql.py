"""Chat through GraphQL (chat/graphql.py): members only, the REST codes, and live messages with afterSeq."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from strawberry.django.test import GraphQLTestClient

from chat import services
from chat.tests.conftest import client_for, make_world, pile_of_messages
from core.realtime.hub import get_hub
from stockchat.asgi import application
from testsupport.graphql import GraphQLSocket
from testsupport.waiting import wait_until_async

SEND = """mutation($c: ID!, $body: String!, $cid: String) {
  sendMessage(conversationId: $c, body: $body, clientMessageId: $cid) { id seq body replayed author { username } }
}"""
MESSAGES = """query($c: ID!, $after: ID, $first: Int) {
  messages(conversationId: $c, after: $after, first: $first) { messages { id seq body } hasOlder hasNewer }
}"""
LIVE = "subscription($c: ID!, $after: Int) { messages(conversationId: $c, afterSeq: $after) { seq body } }"


def gql(user) -> GraphQLTestClient:
    return GraphQLTestClient(client_for(user))


def codes(response) -> list[str]:
    return [error["extensions"]["code"] for error in response.errors or ()]


def test_members_send_and_read_and_outsiders_get_not_found(world):
    group = str(world.group.pk)
    sent = gql(world.owner).query(SEND, {"c": group, "body": "hello $ACME", "cid": "c-1"}).data["sendMessage"]
    assert sent["body"] == "hello $ACME"
    assert sent["author"]["username"] == "alice"
    assert sent["replayed"] is False
    again = gql(world.owner).query(SEND, {"c": group, "body": "hello $ACME", "cid": "c-1"}).data["sendMessage"]
    assert again["id"] == sent["id"]
    assert again["replayed"] is True
    page = gql(world.member).query(MESSAGES, {"c": group}).data["messages"]
    assert [m["body"] for m in page["messages"]] == ["hello $ACME"]
    for query, variables in ((MESSAGES, {"c": group}), (SEND, {"c": group, "body": "let me in"})):
        refused = gql(world.outsider).query(query, variables, assert_no_errors=False)
        assert codes(refused) == ["conversation_not_found"]
    rest = client_for(world.outsider).get(f"/api/v1/conversations/{group}/messages")
    assert rest.json()["code"] == "conversation_not_found"


def test_conversations_list_edit_delete_and_mark_read(world):
    message = services.message_send(user=world.member, conversation_id=world.group.pk, body="first")
    listed = gql(world.owner).query("{ conversations { id kind title unreadCount members { user { username } } } }")
    group = next(c for c in listed.data["conversations"] if c["id"] == str(world.group.pk))
    assert group["unreadCount"] == 1
    assert {m["user"]["username"] for m in group["members"]} == {"alice", "bob"}
    read = gql(world.owner).query(
        "mutation($c: ID!, $m: ID!) { markRead(conversationId: $c, messageId: $m) { unreadCount } }",
        {"c": str(world.group.pk), "m": str(message.pk)},
    )
    assert read.data["markRead"]["unreadCount"] == 0
    edit = 'mutation($id: ID!) { editMessage(id: $id, body: "changed") { body editedAt } }'
    refused = gql(world.owner).query(edit, {"id": str(message.pk)}, assert_no_errors=False)
    assert codes(refused) == [services.NOT_THE_AUTHOR]
    assert gql(world.member).query(edit, {"id": str(message.pk)}).data["editMessage"]["body"] == "changed"
    deleted = gql(world.member).query(
        "mutation($id: ID!) { deleteMessage(id: $id) { deleted body } }", {"id": str(message.pk)}
    )
    assert deleted.data["deleteMessage"] == {"deleted": True, "body": ""}


def test_start_direct_create_group_join_room_and_members(world):
    carol = gql(world.owner).query('mutation { startDirect(username: "carol") { kind members { user { username } } } }')
    assert carol.data["startDirect"]["kind"] == "direct"
    created = gql(world.owner).query('mutation { createGroup(title: "Club", usernames: ["bob"]) { id role } }')
    club = created.data["createGroup"]["id"]
    added = gql(world.owner).query(
        'mutation($c: ID!) { addMember(conversationId: $c, username: "carol") { members { user { username } } } }',
        {"c": club},
    )
    assert {m["user"]["username"] for m in added.data["addMember"]["members"]} == {"alice", "bob", "carol"}
    refused = gql(world.member).query(
        'mutation($c: ID!) { addMember(conversationId: $c, username: "carol") { id } }',
        {"c": club},
        assert_no_errors=False,
    )
    assert refused.errors
    assert refused.errors[0]["extensions"]["code"]
    room = gql(world.outsider).query('mutation { joinStockRoom(symbol: "ACME") { kind symbol } }')
    assert room.data["joinStockRoom"] == {"kind": "stock", "symbol": "ACME"}
    hidden = gql(world.outsider).query('mutation { joinStockRoom(symbol: "SECR") { id } }', assert_no_errors=False)
    assert codes(hidden) == ["stock_not_found"]


@pytest.mark.parametrize(
    "query", ["{ conversations { id lastMessage { body author { username } } members { role } } }"]
)
def test_query_count_does_not_grow_with_conversations(make_user, query):
    world = make_world(make_user)
    client = gql(world.owner)

    def more(n: int, offset: int) -> None:
        for i in range(n):
            conversation = services.group_create(user=world.owner, title=f"G{offset + i}", member_usernames=["bob"])
            pile_of_messages(world.member, conversation, 2)

    more(1, 0)
    with CaptureQueriesContext(connection) as small:
        client.query(query)
    more(10, 100)
    with CaptureQueriesContext(connection) as large:
        client.query(query)
    assert len(large) == len(small)


# --- live ---------------------------------------------------------------------------------


@pytest.fixture
async def live_world(make_user, transactional_db):
    return await database_sync_to_async(make_world)(make_user)


send = database_sync_to_async(services.message_send)


async def signed_in(ws_headers, user) -> GraphQLSocket:
    socket = await GraphQLSocket.open(application, await ws_headers(user))
    await socket.acked()
    return socket


async def following(group: str, count: int = 1) -> None:
    await wait_until_async(lambda: get_hub().local_subscribers(group) >= count, what=group, timeout=10)


async def test_messages_after_seq_replays_what_was_missed_then_goes_live_once(live_world, ws_headers):
    world = live_world
    for n in range(1, 4):
        await send(user=world.owner, conversation_id=world.group.pk, body=f"m{n}")
    socket = await signed_in(ws_headers, world.member)
    op = await socket.subscribe(LIVE, {"c": str(world.group.pk), "after": 1})
    assert [await socket.next_data(op) for _ in range(2)] == [
        {"messages": {"seq": 2, "body": "m2"}},
        {"messages": {"seq": 3, "body": "m3"}},
    ]
    await send(user=world.owner, conversation_id=world.group.pk, body="m4")
    assert await socket.next_data(op) == {"messages": {"seq": 4, "body": "m4"}}
    # A reconnect resumes after the last seq it saw: nothing lost, nothing twice.
    await socket.close()
    await send(user=world.owner, conversation_id=world.group.pk, body="m5")
    socket = await signed_in(ws_headers, world.member)
    op = await socket.subscribe(LIVE, {"c": str(world.group.pk), "after": 4})
    assert await socket.next_data(op) == {"messages": {"seq": 5, "body": "m5"}}
    await send(user=world.owner, conversation_id=world.group.pk, body="m6")
    assert await socket.next_data(op) == {"messages": {"seq": 6, "body": "m6"}}
    await socket.close()


async def test_a_message_sent_during_the_replay_comes_once(live_world, ws_headers, monkeypatch):
    world = live_world
    await send(user=world.owner, conversation_id=world.group.pk, body="m1")
    from chat import graphql as chat_graphql

    original = chat_graphql._missed

    def missed_with_a_message_racing(**kwargs):
        # Committed after the subscription follows the group and before (or while) it reads.
        services.message_send(user=world.owner, conversation_id=world.group.pk, body="racing")
        return original(**kwargs)

    monkeypatch.setattr(chat_graphql, "_missed", missed_with_a_message_racing)
    socket = await signed_in(ws_headers, world.member)
    op = await socket.subscribe(LIVE, {"c": str(world.group.pk), "after": 0})
    assert [await socket.next_data(op) for _ in range(2)] == [
        {"messages": {"seq": 1, "body": "m1"}},
        {"messages": {"seq": 2, "body": "racing"}},
    ]
    await send(user=world.owner, conversation_id=world.group.pk, body="after")
    assert await socket.next_data(op) == {"messages": {"seq": 3, "body": "after"}}
    await socket.close()


async def test_outsider_cannot_subscribe_to_a_conversation(live_world, ws_headers):
    socket = await signed_in(ws_headers, live_world.outsider)
    op = await socket.subscribe(LIVE, {"c": str(live_world.group.pk)})
    message = await socket.receive()
    assert message["id"] == op
    assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["conversation_not_found"]
    await socket.close()


async def test_removed_member_stops_receiving(live_world, ws_headers):
    world = live_world
    socket = await signed_in(ws_headers, world.member)
    op = await socket.subscribe(LIVE, {"c": str(world.group.pk)})
    await following(f"conversation.{world.group.pk}")
    await database_sync_to_async(services.member_remove)(
        actor=world.owner, conversation_id=world.group.pk, user_id=world.member.pk
    )
    message = await socket.receive()
    assert message["id"] == op
    assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["conversation_not_found"]
    await socket.close()


async def test_conversation_events_bring_edits_and_membership(live_world, ws_headers):
    world = live_world
    message = await send(user=world.member, conversation_id=world.group.pk, body="typo")
    socket = await signed_in(ws_headers, world.owner)
    op = await socket.subscribe(
        "subscription($c: ID!) { conversationEvents(conversationId: $c) "
        "{ kind message { body } member { user { username } } } }",
        {"c": str(world.group.pk)},
    )
    await following(f"conversation.{world.group.pk}")
    await database_sync_to_async(services.message_edit)(user=world.member, message_id=message.pk, body="fixed")
    assert await socket.next_data(op) == {
        "conversationEvents": {"kind": "chat.message.edited", "message": {"body": "fixed"}, "member": None}
    }
    await database_sync_to_async(services.member_add)(
        actor=world.owner, conversation_id=world.group.pk, username="carol"
    )
    assert (await socket.next_data(op))["conversationEvents"]["member"] == {"user": {"username": "carol"}}
    await socket.close()


def test_query_count_of_a_message_page_does_not_grow_with_its_length(world):
    query = '{ messages(conversationId: "%d", first: 200) { messages { id body author { username } symbols } } }'
    client = gql(world.owner)
    pile_of_messages(world.member, world.group, 2)
    with CaptureQueriesContext(connection) as small:
        client.query(query % world.group.pk)
    pile_of_messages(world.member, world.group, 20)
    with CaptureQueriesContext(connection) as large:
        client.query(query % world.group.pk)
    assert len(large) == len(small)
