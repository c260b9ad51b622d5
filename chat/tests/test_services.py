"""Chat services: conversations, members, messages, read markers, limits and their events."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from chat import events, selectors, services
from chat.models import Conversation, ConversationKind, MemberRole, Membership, Message
from core.errors import NotFound, ServiceError
from core.realtime import publish as publish_module
from core.realtime.groups import user_group
from trading import services as trading

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """The channel-layer messages chat services send on commit, in order."""
    messages: list[dict] = []
    monkeypatch.setattr(publish_module, "publish", messages.append)
    return messages


def frames(sent, group=None):
    return [m.get("frame") or m.get("control") for m in sent if group is None or m["group"] == group]


# --- conversations ---------------------------------------------------------------------------


def test_direct_start_is_unique_per_pair_in_either_direction(world):
    again = services.direct_start(user=world.member, other_username="alice")
    assert again.pk == world.direct.pk
    assert Conversation.objects.filter(kind=ConversationKind.DIRECT).count() == 1


def test_the_database_refuses_a_second_direct_conversation_for_a_pair(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(kind=ConversationKind.DIRECT, direct_key=world.direct.direct_key)


def test_direct_start_reopens_a_left_conversation_with_its_history(world, sent):
    message = services.message_send(user=world.owner, conversation_id=world.direct.pk, body="hello")
    services.conversation_leave(user=world.member, conversation_id=world.direct.pk)
    with pytest.raises(NotFound):
        selectors.message_history(viewer=world.member, conversation_id=world.direct.pk)
    sent.clear()
    with _on_commit():
        services.direct_start(user=world.member, other_username="alice")
    page = selectors.message_history(viewer=world.member, conversation_id=world.direct.pk)
    assert [m.pk for m in page.messages] == [message.pk]
    assert frames(sent) == [
        {
            "type": "chat.conversation.added",
            "v": 1,
            "conversation": {"id": world.direct.pk, "kind": "direct", "title": "", "symbol": None},
        }
    ]
    assert sent[0]["group"] == user_group(world.member.pk)


def test_direct_start_with_oneself_or_a_stranger_is_refused(world):
    with pytest.raises(ServiceError) as exc:
        services.direct_start(user=world.owner, other_username="alice")
    assert exc.value.code == services.INVALID
    with pytest.raises(NotFound) as exc:
        services.direct_start(user=world.owner, other_username="nobody")
    assert exc.value.code == services.USER_NOT_FOUND


def test_group_create_makes_the_creator_owner_and_tells_every_member(make_user, sent):
    alice, bob = make_user("alice"), make_user("bob")
    with _on_commit():
        group = services.group_create(user=alice, title="  Desk  ", member_usernames=["bob", "bob"])
    assert group.title == "Desk"
    roles = dict(Membership.objects.filter(conversation=group).values_list("user__username", "role"))
    assert roles == {"alice": MemberRole.OWNER, "bob": MemberRole.MEMBER}
    assert [m["group"] for m in sent] == [user_group(alice.pk), user_group(bob.pk)]


@pytest.mark.parametrize("title", ["", "   ", "x" * 101, None])
def test_group_needs_a_title(make_user, title):
    with pytest.raises(ServiceError):
        services.group_create(user=make_user("alice"), title=title)


def test_stock_room_is_one_per_stock_and_joining_is_idempotent(world):
    room = services.stock_room_join(user=world.outsider, symbol="acme")
    assert services.stock_room_join(user=world.member, symbol="ACME").pk == room.pk
    assert services.stock_room_join(user=world.member, symbol="ACME").pk == room.pk
    assert room.kind == ConversationKind.STOCK
    assert room.stock == world.acme
    assert Membership.objects.filter(conversation=room).count() == 2


def test_a_hidden_stock_has_no_room_for_those_who_cannot_see_it(world):
    with pytest.raises(NotFound) as exc:
        services.stock_room_join(user=world.outsider, symbol="SECR")
    assert exc.value.code == "stock_not_found"
    world.outsider.groups.add(world.premium)
    assert services.stock_room_join(user=world.outsider, symbol="SECR").stock == world.secret


# --- members ---------------------------------------------------------------------------------


def test_only_owners_add_members(world):
    with pytest.raises(ServiceError) as exc:
        services.member_add(actor=world.member, conversation_id=world.group.pk, username="carol")
    assert exc.value.code == services.NOT_AN_OWNER
    assert exc.value.status == 403
    with pytest.raises(NotFound):
        services.member_add(actor=world.outsider, conversation_id=world.group.pk, username="carol")
    services.member_add(actor=world.owner, conversation_id=world.group.pk, username="carol")
    with pytest.raises(ServiceError) as exc:
        services.member_add(actor=world.owner, conversation_id=world.group.pk, username="carol")
    assert exc.value.code == services.ALREADY_MEMBER


def test_members_cannot_be_added_to_a_direct_conversation(world):
    with pytest.raises(ServiceError) as exc:
        services.member_add(actor=world.owner, conversation_id=world.direct.pk, username="carol")
    assert exc.value.code == services.NOT_ALLOWED_HERE


def test_removing_a_member_makes_their_sockets_leave_then_tells_the_others(world, sent):
    with _on_commit():
        services.member_remove(actor=world.owner, conversation_id=world.group.pk, user_id=world.member.pk)
    assert not Membership.objects.filter(conversation=world.group, user=world.member).exists()
    group = events.conversation_group(world.group.pk)
    assert sent[0] == {
        "type": "hub.event",
        "group": user_group(world.member.pk),
        "control": {
            "action": "leave",
            "group": group,
            "frame": {
                "type": "chat.conversation.removed",
                "v": 1,
                "conversation_id": world.group.pk,
                "reason": "removed",
            },
        },
    }
    assert sent[1]["group"] == group
    assert sent[1]["frame"]["type"] == "chat.member.left"
    assert sent[1]["frame"]["member"]["user"] == {"id": world.member.pk, "username": "bob"}


def test_members_cannot_remove_and_owners_cannot_remove_themselves(world):
    with pytest.raises(ServiceError) as exc:
        services.member_remove(actor=world.member, conversation_id=world.group.pk, user_id=world.owner.pk)
    assert exc.value.code == services.NOT_AN_OWNER
    with pytest.raises(ServiceError) as exc:
        services.member_remove(actor=world.owner, conversation_id=world.group.pk, user_id=world.owner.pk)
    assert exc.value.code == services.CANNOT_REMOVE_SELF
    with pytest.raises(NotFound):
        services.member_remove(actor=world.outsider, conversation_id=world.group.pk, user_id=world.member.pk)


def test_staff_moderating_may_remove_anyone(world, make_user):
    staff = make_user("mod", is_staff=True)
    services.member_remove(actor=staff, conversation_id=world.direct.pk, user_id=world.member.pk, moderate=True)
    assert not Membership.objects.filter(conversation=world.direct, user=world.member).exists()
    # Without moderate, staff are outsiders like anyone else.
    with pytest.raises(NotFound):
        services.member_remove(actor=staff, conversation_id=world.group.pk, user_id=world.member.pk)


def test_the_last_owner_leaving_hands_the_group_to_the_longest_standing_member(world):
    services.conversation_leave(user=world.owner, conversation_id=world.group.pk)
    assert Membership.objects.get(conversation=world.group, user=world.member).role == MemberRole.OWNER


# --- messages --------------------------------------------------------------------------------


def test_send_saves_first_and_announces_on_commit(world, sent):
    with _on_commit():
        message = services.message_send(user=world.member, conversation_id=world.group.pk, body=" hi $ACME ")
        assert sent == []
        assert Message.objects.filter(pk=message.pk).exists()
    assert message.body == "hi $ACME"
    assert sent == [
        {
            "type": "hub.event",
            "group": events.conversation_group(world.group.pk),
            "frame": {
                "type": "chat.message.created",
                "v": 1,
                "message": {
                    "id": message.pk,
                    "conversation_id": world.group.pk,
                    "seq": 1,
                    "author": {"id": world.member.pk, "username": "bob"},
                    "body": "hi $ACME",
                    "payload": None,
                    "symbols": ["ACME"],
                    "client_message_id": None,
                    "created_at": message.created_at.isoformat(),
                    "edited_at": None,
                    "deleted": False,
                    "attachments": [],
                    "reactions": [],
                    "reply_to": None,
                    "mentions": [],
                },
            },
        }
    ]


def test_a_rolled_back_send_is_never_announced(world, sent):
    @transaction.atomic
    def send_then_fail():
        services.message_send(user=world.member, conversation_id=world.group.pk, body="oops")
        raise RuntimeError

    with _on_commit(), pytest.raises(RuntimeError):
        send_then_fail()
    assert sent == []
    assert not Message.objects.exists()


def test_non_members_cannot_send_and_learn_nothing(world):
    for conversation_id in (world.group.pk, world.direct.pk, 999_999, "x", None, True):
        with pytest.raises(NotFound) as exc:
            services.message_send(user=world.outsider, conversation_id=conversation_id, body="hi")
        assert exc.value.code == selectors.CONVERSATION_NOT_FOUND
        assert exc.value.detail == "No such conversation."


def test_a_resent_client_message_id_returns_the_saved_message(world, sent):
    with _on_commit():
        first = services.message_submit(
            user=world.owner, conversation_id=world.group.pk, body="a", client_message_id="c1"
        )
        again = services.message_submit(
            user=world.owner, conversation_id=world.group.pk, body="changed", client_message_id="c1"
        )
    assert (first.replayed, again.replayed) == (False, True)
    assert again.message.pk == first.message.pk
    assert again.message.body == "a"
    assert Message.objects.count() == 1
    assert len(sent) == 1
    # Client ids are per author: the same id from someone else is a different message.
    other = services.message_send(user=world.member, conversation_id=world.group.pk, body="b", client_message_id="c1")
    assert other.pk != first.message.pk


def test_the_database_refuses_a_duplicate_client_message_id(world):
    services.message_send(user=world.owner, conversation_id=world.group.pk, body="a", client_message_id="c1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(conversation=world.group, seq=2, author=world.owner, body="b", client_message_id="c1")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", services.EMPTY_MESSAGE),
        ("   ", services.EMPTY_MESSAGE),
        ("x" * 4001, services.BODY_TOO_LONG),
        (7, "invalid"),
    ],
)
def test_bad_bodies_are_refused_with_a_clear_code(world, body, code):
    with pytest.raises(ServiceError) as exc:
        services.message_send(user=world.owner, conversation_id=world.group.pk, body=body)
    assert exc.value.code == code
    assert not Message.objects.exists()


def test_the_database_bounds_the_body_length(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(conversation=world.group, seq=1, author=world.owner, body="x" * 4001)


def test_the_database_keeps_seq_unique_per_conversation(world):
    services.message_send(user=world.owner, conversation_id=world.group.pk, body="first")
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(conversation=world.group, seq=1, author=world.owner, body="again")
    # Another conversation counts on its own.
    assert services.message_send(user=world.owner, conversation_id=world.direct.pk, body="first").seq == 1


def test_seq_counts_a_conversations_messages_without_holes(world):
    seqs = [services.message_send(user=world.owner, conversation_id=world.group.pk, body=f"{n}").seq for n in range(3)]
    services.message_send(user=world.owner, conversation_id=world.group.pk, body="again", client_message_id="r")
    services.message_send(user=world.owner, conversation_id=world.group.pk, body="again", client_message_id="r")
    assert seqs == [1, 2, 3]
    assert list(Message.objects.filter(conversation=world.group).order_by("id").values_list("seq", flat=True)) == [
        1,
        2,
        3,
        4,
    ]


def test_a_body_of_exactly_the_limit_is_accepted(world):
    message = services.message_send(user=world.owner, conversation_id=world.group.pk, body="x" * 4000)
    assert len(message.body) == 4000


def test_messages_are_sent_unlimited_while_redis_is_down(world, settings, unreachable_redis):
    settings.STOCKCHAT_CHAT_SENDS_PER_MINUTE = 1
    for body in ("1", "2"):
        services.message_send(user=world.owner, conversation_id=world.group.pk, body=body)
    assert Message.objects.filter(author=world.owner, conversation=world.group).count() == 2


def test_sending_is_rate_limited_per_user_across_conversations(world, settings):
    settings.STOCKCHAT_CHAT_SENDS_PER_MINUTE = 3
    services.message_send(user=world.owner, conversation_id=world.group.pk, body="1")
    services.message_send(user=world.owner, conversation_id=world.direct.pk, body="2")
    services.message_send(user=world.owner, conversation_id=world.group.pk, body="3", client_message_id="m3")
    with pytest.raises(ServiceError) as exc:
        services.message_send(user=world.owner, conversation_id=world.direct.pk, body="4")
    assert exc.value.code == services.RATE_LIMITED
    assert exc.value.status == 429
    assert "3 messages a minute" in exc.value.detail
    # A resend of a saved message is not a new send, and others are not limited.
    assert services.message_submit(
        user=world.owner, conversation_id=world.group.pk, body="3", client_message_id="m3"
    ).replayed
    services.message_send(user=world.member, conversation_id=world.group.pk, body="fine")


def test_authors_edit_and_delete_their_own_messages_only(world, sent):
    message = services.message_send(user=world.member, conversation_id=world.group.pk, body="tpyo")
    for actor in (world.owner,):
        with pytest.raises(ServiceError) as exc:
            services.message_edit(user=actor, message_id=message.pk, body="hacked")
        assert exc.value.code == services.NOT_THE_AUTHOR
        with pytest.raises(ServiceError):
            services.message_delete(user=actor, message_id=message.pk)
    with pytest.raises(NotFound):
        services.message_edit(user=world.outsider, message_id=message.pk, body="hacked")
    sent.clear()
    with _on_commit():
        edited = services.message_edit(user=world.member, message_id=message.pk, body="typo")
        services.message_delete(user=world.member, message_id=message.pk)
    assert edited.edited_at is not None
    assert [f["type"] for f in frames(sent)] == ["chat.message.edited", "chat.message.deleted"]
    assert frames(sent)[0]["message"]["body"] == "typo"
    assert frames(sent)[1]["message"]["body"] == ""
    assert frames(sent)[1]["message"]["deleted"]
    message.refresh_from_db()
    assert message.body == ""
    assert message.deleted_at is not None
    with pytest.raises(ServiceError) as exc:
        services.message_edit(user=world.member, message_id=message.pk, body="back")
    assert exc.value.code == services.MESSAGE_DELETED


def test_staff_moderating_delete_any_message(world, make_user):
    message = services.message_send(user=world.member, conversation_id=world.group.pk, body="spam")
    services.message_delete(user=make_user("mod", is_staff=True), message_id=message.pk, moderate=True)
    message.refresh_from_db()
    assert message.deleted_at is not None
    assert message.body == ""


def test_share_a_fill_of_ones_own_only(world, settings):
    trading.account_open(user=world.member)
    trading.account_open(user=world.outsider)
    order = trading.order_place(user=world.member, symbol="ACME", side="buy", quantity=3)
    fill = order.fill
    message = services.fill_share(user=world.member, conversation_id=world.group.pk, fill_id=fill.pk)
    assert message.body == ""
    assert message.payload == {
        "kind": "fill",
        "fill": {
            "id": fill.pk,
            "symbol": "ACME",
            "side": "buy",
            "quantity": 3,
            "price": str(fill.price),
            "executed_at": fill.executed_at.isoformat(),
        },
    }
    assert Decimal(message.payload["fill"]["price"]) == Decimal("100")
    with pytest.raises(NotFound) as exc:
        services.fill_share(user=world.owner, conversation_id=world.group.pk, fill_id=fill.pk)
    assert exc.value.code == services.FILL_NOT_FOUND


# --- read markers and unread counts -------------------------------------------------------------


def test_unread_counts_messages_by_others_after_the_read_marker(world, sent):
    services.message_send(user=world.member, conversation_id=world.group.pk, body="mine")
    ids = [services.message_send(user=world.owner, conversation_id=world.group.pk, body=f"m{n}").pk for n in range(4)]
    assert selectors.unread_count(viewer=world.member, conversation_id=world.group.pk) == 4
    # Sending marks everything up to one's own message read.
    assert selectors.unread_count(viewer=world.owner, conversation_id=world.group.pk) == 0
    services.message_delete(user=world.owner, message_id=ids[3])
    assert selectors.unread_count(viewer=world.member, conversation_id=world.group.pk) == 3
    sent.clear()
    with _on_commit():
        services.conversation_mark_read(user=world.member, conversation_id=world.group.pk, message_id=ids[1])
    assert selectors.unread_count(viewer=world.member, conversation_id=world.group.pk) == 1
    assert sent == [
        {
            "type": "hub.event",
            "group": user_group(world.member.pk),
            "frame": {
                "type": "chat.read.updated",
                "v": 1,
                "conversation_id": world.group.pk,
                "last_read_message_id": ids[1],
            },
        }
    ]
    # Never backwards, and never past the newest message.
    services.conversation_mark_read(user=world.member, conversation_id=world.group.pk, message_id=ids[0])
    assert Membership.objects.get(user=world.member, conversation=world.group).last_read_message_id == ids[1]
    services.conversation_mark_read(user=world.member, conversation_id=world.group.pk, message_id=10**12)
    newest = Message.objects.latest("id").pk
    assert Membership.objects.get(user=world.member, conversation=world.group).last_read_message_id == newest
    assert selectors.unread_count(viewer=world.member, conversation_id=world.group.pk) == 0


def test_non_members_cannot_move_a_read_marker(world):
    with pytest.raises(NotFound):
        services.conversation_mark_read(user=world.outsider, conversation_id=world.group.pk, message_id=1)


class _on_commit:
    """Run on-commit callbacks at the end of the block (the test runs inside a transaction)."""

    def __enter__(self):
        from django.test import TestCase

        self._context = TestCase.captureOnCommitCallbacks(execute=True)
        return self._context.__enter__()

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)
