"""Chat reads: conversation list, history pages, mentioned stocks per reader, search."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import selectors, services
from chat.models import Message
from chat.tests.conftest import pile_of_messages
from core.errors import NotFound

pytestmark = pytest.mark.django_db


def send(user, conversation, body):
    return services.message_send(user=user, conversation_id=conversation.pk, body=body)


def test_conversation_list_has_last_message_and_unread_counts(world):
    send(world.owner, world.group, "one")
    send(world.owner, world.group, "two")
    last = send(world.member, world.direct, "direct")
    summaries = selectors.conversation_list(viewer=world.owner)
    assert [(s.conversation.pk, s.unread_count, s.last_message["body"]) for s in summaries] == [
        (world.direct.pk, 1, "direct"),
        (world.group.pk, 0, "two"),
    ]
    assert summaries[0].last_message["id"] == last.pk
    assert [m["user"]["username"] for m in summaries[0].members] == ["alice", "bob"]
    bob = {s.conversation.pk: s.unread_count for s in selectors.conversation_list(viewer=world.member)}
    assert bob == {world.group.pk: 2, world.direct.pk: 0}
    assert selectors.conversation_list(viewer=world.outsider) == []


def _queries(func) -> int:
    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured)


def test_conversation_list_queries_do_not_grow_with_conversations_or_messages(world, make_user):
    services.stock_room_join(user=world.owner, symbol="ACME")
    send(world.member, world.group, "hello $ACME")
    small = _queries(lambda: selectors.conversation_list(viewer=world.owner))
    for n in range(6):
        friend = make_user(f"friend{n}")
        direct = services.direct_start(user=world.owner, other_username=friend.username)
        for k in range(3):
            send(friend, direct, f"{k} about $ACME and $SECR")
        group = services.group_create(user=friend, title=f"g{n}", member_usernames=["alice", "bob"])
        send(world.member, group, "hi")
    assert len(selectors.conversation_list(viewer=world.owner)) == 15
    assert _queries(lambda: selectors.conversation_list(viewer=world.owner)) == small <= 5


def test_unread_counts_stop_at_the_cap_inside_the_query(world):
    pile_of_messages(world.owner, world.group, selectors.UNREAD_COUNT_CAP - 1)
    pile_of_messages(world.owner, world.direct, selectors.UNREAD_COUNT_CAP + 5)

    def counts():
        return {s.conversation.pk: s.unread_count for s in selectors.conversation_list(viewer=world.member)}

    assert counts() == {world.group.pk: 99, world.direct.pk: 100}
    assert selectors.unread_count(viewer=world.member, conversation_id=world.group.pk) == 99
    assert selectors.unread_count(viewer=world.member, conversation_id=world.direct.pk) == 100
    # The database stops counting at the cap: the counted rows are LIMITed in the SQL.
    with CaptureQueriesContext(connection) as captured:
        counts()
        selectors.unread_count(viewer=world.member, conversation_id=world.direct.pk)
    capped = [q["sql"] for q in captured if f"LIMIT {selectors.UNREAD_COUNT_CAP}" in q["sql"] and "COUNT(" in q["sql"]]
    assert len(capped) == 2
    assert len(captured) <= 4 + 2  # the list's four queries; the single count's membership and count


def test_history_pages_before_and_after_without_gaps_or_overlaps(world):
    ids = [send(world.owner, world.group, f"m{n}").pk for n in range(7)]
    newest = selectors.message_history(viewer=world.member, conversation_id=world.group.pk, limit=3)
    assert [m.pk for m in newest.messages] == ids[4:]
    assert (newest.has_older, newest.has_newer) == (True, False)
    older = selectors.message_history(viewer=world.member, conversation_id=world.group.pk, before=ids[4], limit=3)
    assert [m.pk for m in older.messages] == ids[1:4]
    oldest = selectors.message_history(viewer=world.member, conversation_id=world.group.pk, before=ids[1], limit=3)
    assert [m.pk for m in oldest.messages] == ids[:1]
    assert not oldest.has_older
    after = selectors.message_history(viewer=world.member, conversation_id=world.group.pk, after=ids[1], limit=4)
    assert [m.pk for m in after.messages] == ids[2:6]
    assert after.has_newer
    assert after.has_older
    rest = selectors.message_history(viewer=world.member, conversation_id=world.group.pk, after=ids[5], limit=4)
    assert [m.pk for m in rest.messages] == ids[6:]
    assert not rest.has_newer


def test_history_keeps_deleted_messages_as_blank_tombstones(world):
    first = send(world.owner, world.group, "keep")
    gone = send(world.owner, world.group, "secret plans")
    services.message_delete(user=world.owner, message_id=gone.pk)
    page = selectors.message_history(viewer=world.member, conversation_id=world.group.pk)
    data = selectors.messages_data(viewer=world.member, messages=page.messages)
    assert [(d["id"], d["body"], d["deleted"]) for d in data] == [(first.pk, "keep", False), (gone.pk, "", True)]


@pytest.mark.parametrize("conversation_id", ["group", "direct", 424242, "abc", -1, 0, None])
def test_non_members_read_nothing_and_cannot_tell_existing_from_missing(world, conversation_id):
    send(world.owner, world.group, "private")
    conversation_id = (
        getattr(world, conversation_id).pk
        if isinstance(conversation_id, str)
        and conversation_id
        in {
            "group",
            "direct",
        }
        else conversation_id
    )
    for read in (selectors.message_history, selectors.member_list, selectors.conversation_summary):
        with pytest.raises(NotFound) as exc:
            read(viewer=world.outsider, conversation_id=conversation_id)
        assert (exc.value.code, exc.value.detail) == ("conversation_not_found", "No such conversation.")


def test_symbols_are_linked_for_readers_who_may_see_the_stock(world):
    world.member.groups.add(world.premium)
    message = send(world.owner, world.group, "$ACME vs $SECR vs $NOPE, and US$5 and $acme.")
    [for_member] = selectors.messages_data(viewer=world.member, messages=[message])
    [for_owner] = selectors.messages_data(viewer=world.owner, messages=[message])
    assert for_member["symbols"] == ["ACME", "SECR"]
    assert for_owner["symbols"] == ["ACME"]
    # The live frame, the same for every member, links only what everyone may see.
    assert selectors.message_broadcast_data(message)["symbols"] == ["ACME"]
    assert for_owner["body"] == message.body


def test_search_finds_words_in_the_viewers_conversations_only(world):
    hit = send(world.owner, world.group, "Buying more anvils today")
    send(world.owner, world.group, "nothing to see")
    services.group_create(user=world.outsider, title="Other")
    other = services.direct_start(user=world.outsider, other_username="bob")
    send(world.outsider, other, "anvils for bob")
    gone = send(world.owner, world.group, "anvils again")
    services.message_delete(user=world.owner, message_id=gone.pk)
    assert [m.pk for m in selectors.message_search(viewer=world.owner, query="anvils")] == [hit.pk]
    assert {m.body for m in selectors.message_search(viewer=world.member, query="anvils")} == {
        "Buying more anvils today",
        "anvils for bob",
    }
    assert list(selectors.message_search(viewer=world.owner, query="   ")) == []


@pytest.mark.postgres
def test_search_on_postgresql_stems_words_and_uses_the_index(world):
    hit = send(world.owner, world.group, "The anvil traders were buying")
    send(world.owner, world.group, "unrelated")
    assert [m.pk for m in selectors.message_search(viewer=world.owner, query="anvils buy")] == [hit.pk]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'chat_message_body_fts'")
        (definition,) = cursor.fetchone()
        assert "gin" in definition.lower()
        assert "to_tsvector" in definition
        cursor.execute("SET enable_seqscan = off")
        query = selectors.matching(Message.objects.all(), "anvils")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "chat_message_body_fts" in plan


def test_losing_sight_of_a_stock_loses_its_room(world):
    world.member.groups.add(world.premium)
    room = services.stock_room_join(user=world.member, symbol="SECR")
    send(world.member, room, "inside")
    assert room.pk in [s.conversation.pk for s in selectors.conversation_list(viewer=world.member)]
    world.member.groups.remove(world.premium)
    assert room.pk not in [s.conversation.pk for s in selectors.conversation_list(viewer=world.member)]
    with pytest.raises(NotFound):
        selectors.message_history(viewer=world.member, conversation_id=room.pk)
    with pytest.raises(NotFound):
        send(world.member, room, "still here?")
    assert list(selectors.message_search(viewer=world.member, query="inside")) == []
