"""Reactions over the one WebSocket: chat.react, live chat.message.reactions, members only, and
counts that are right again after a reconnect (frames checked against docs/asyncapi.yaml)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from chat import reactions, services
from chat.tests.test_consumers import connect, next_frame, subscribe, world  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)

send = database_sync_to_async(services.message_send)
react = database_sync_to_async(reactions.reaction_set)


async def test_a_reaction_reaches_every_member_live_with_the_full_counts(world, ws_headers):  # noqa: F811
    message = await send(user=world.owner, conversation_id=world.group.pk, body="the plan")
    alice, bob, carol = [await connect(ws_headers, u) for u in (world.owner, world.member, world.outsider)]
    for socket in (alice, bob):
        await subscribe(socket, world.group)
    await bob.send_json_to({"type": "chat.react", "message_id": message.pk, "reaction": "tada", "ref": 7})
    reply = await next_frame(bob, "chat.reacted", skip=("chat.message.reactions",))
    tada = {
        "name": "tada",
        "emoji": "\N{PARTY POPPER}",
        "count": 1,
        "users": [{"id": world.member.pk, "username": "bob"}],
    }
    assert reply == {
        "type": "chat.reacted",
        "message_id": message.pk,
        "conversation_id": world.group.pk,
        "reactions": [tada],
        "changed": True,
        "ref": 7,
    }
    live = await next_frame(alice, "chat.message.reactions")
    assert live == {
        "type": "chat.message.reactions",
        "v": 1,
        "conversation_id": world.group.pk,
        "message_id": message.pk,
        "reactions": [tada],
        "user": {"id": world.member.pk, "username": "bob"},
        "reaction": "tada",
        "on": True,
    }
    # Alice toggles it too, then bob clears his: each frame says the whole truth.
    await alice.send_json_to({"type": "chat.react", "message_id": message.pk, "reaction": "tada"})
    assert (await next_frame(bob, "chat.message.reactions", skip=("chat.reacted",)))["reactions"][0]["count"] == 2
    await bob.send_json_to({"type": "chat.react", "message_id": message.pk, "reaction": "tada", "on": False})
    cleared = await next_frame(alice, "chat.message.reactions", skip=("chat.reacted",))
    assert cleared["on"] is True  # alice's own, first
    cleared = await next_frame(alice, "chat.message.reactions", skip=("chat.reacted",))
    assert (cleared["user"]["username"], cleared["on"]) == ("bob", False)
    assert cleared["reactions"][0]["users"] == [{"id": world.owner.pk, "username": "alice"}]
    # The same toggle again changes nothing and tells no one.
    await bob.send_json_to({"type": "chat.react", "message_id": message.pk, "reaction": "tada", "on": False, "ref": 9})
    again = await next_frame(bob, "chat.reacted", skip=("chat.message.reactions",))
    while again["ref"] != 9:
        again = await next_frame(bob, "chat.reacted", skip=("chat.message.reactions",))
    assert again["changed"] is False
    assert await alice.receive_nothing(timeout=0.3)
    assert await carol.receive_nothing(timeout=0.3)
    for socket in (alice, bob, carol):
        await socket.disconnect()


@pytest.mark.parametrize("who", ["outsider", "removed"])
async def test_non_members_and_removed_members_cannot_react(world, ws_headers, who):  # noqa: F811
    message = await send(user=world.owner, conversation_id=world.group.pk, body="the plan")
    if who == "removed":
        await database_sync_to_async(services.member_remove)(
            actor=world.owner, conversation_id=world.group.pk, user_id=world.member.pk
        )
    user = world.outsider if who == "outsider" else world.member
    alice = await connect(ws_headers, world.owner)
    await subscribe(alice, world.group)
    socket = await connect(ws_headers, user)
    for on in (True, False):
        await socket.send_json_to({"type": "chat.react", "message_id": message.pk, "reaction": "heart", "on": on})
        error = await next_frame(socket, "error")
        assert (error["code"], error["detail"]) == ("message_not_found", "No such message.")
    assert await alice.receive_nothing(timeout=0.3)
    await alice.disconnect()
    await socket.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"reaction": "heart"}, "invalid"),
        ({"message_id": "1", "reaction": "heart"}, "invalid"),
        ({"message_id": 0, "reaction": "heart"}, "invalid"),
        ({"message_id": 2**63, "reaction": "heart"}, "invalid"),
        ({"message_id": "MID", "reaction": "heart", "on": "yes"}, "invalid"),
        ({"message_id": "MID", "reaction": "skull"}, "unknown_reaction"),
        ({"message_id": "MID"}, "unknown_reaction"),
        ({"message_id": "MID", "reaction": ["heart"]}, "unknown_reaction"),
    ],
)
async def test_malformed_react_frames_are_refused(world, ws_headers, frame, code):  # noqa: F811
    message = await send(user=world.owner, conversation_id=world.group.pk, body="the plan")
    frame = {k: (message.pk if v == "MID" else v) for k, v in frame.items()}
    socket = await connect(ws_headers, world.member)
    await socket.send_json_to({"type": "chat.react", **frame, "ref": "r"})
    error = await next_frame(socket, "error")
    assert (error["code"], error["ref"]) == (code, "r")
    await socket.disconnect()


async def test_a_client_that_missed_reaction_changes_reads_the_right_counts_after_reconnecting(
    world,  # noqa: F811
    ws_headers,
):
    from chat.tests.conftest import client_for

    old = await send(user=world.owner, conversation_id=world.group.pk, body="old")
    bob = await connect(ws_headers, world.member)
    await subscribe(bob, world.group)
    await bob.disconnect()
    # While bob is away: a reaction on a message he has, and a new message with one.
    await react(user=world.owner, message_id=old.pk, reaction="heart", on=True)
    new = await send(user=world.owner, conversation_id=world.group.pk, body="new")
    await react(user=world.owner, message_id=new.pk, reaction="joy", on=True)
    bob = await connect(ws_headers, world.member)
    await bob.send_json_to({"type": "chat.resume", "conversations": {str(world.group.pk): old.pk}, "ref": 1})
    resumed = await next_frame(bob, "chat.message.created")
    assert (resumed["message"]["id"], resumed["message"]["reactions"][0]["name"]) == (new.pk, "joy")
    assert (await next_frame(bob, "chat.resumed"))["more"] == []
    # What the web client reads once caught up: the messages it shows, with their reactions now.
    page = await database_sync_to_async(
        lambda: client_for(world.member).get(f"/api/v1/conversations/{world.group.pk}/messages").json()
    )()
    assert {m["id"]: [r["name"] for r in m["reactions"]] for m in page["results"]} == {
        old.pk: ["heart"],
        new.pk: ["joy"],
    }
    await bob.disconnect()
