"""Chat over the one WebSocket: members only, removal at once, resume without gaps or duplicates."""

from __future__ import annotations

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async

from chat import services
from chat.tests.conftest import make_world
from stockchat.asgi import application
from testsupport.socket_contract import ContractCommunicator
from trading import services as trading

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def world(make_user):
    return await database_sync_to_async(make_world)(make_user)


async def connect(ws_headers, user) -> ContractCommunicator:
    communicator = ContractCommunicator(application, "/ws/", headers=await ws_headers(user))
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator


async def next_frame(socket, wanted: str, skip=("chat.conversation.added", "chat.member.joined")) -> dict:
    while True:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == wanted:
            return frame
        assert frame["type"] in skip, frame


async def subscribe(socket, *conversations) -> None:
    ids = [c.pk for c in conversations]
    await socket.send_json_to({"type": "chat.subscribe", "conversation_ids": ids, "ref": "s"})
    assert await next_frame(socket, "chat.subscribed") == {
        "type": "chat.subscribed",
        "conversation_ids": ids,
        "ref": "s",
    }


send = database_sync_to_async(services.message_send)


async def test_a_message_reaches_every_member_socket_and_no_one_else(world, ws_headers):
    alice, bob, bob_too, carol = [
        await connect(ws_headers, user) for user in (world.owner, world.member, world.member, world.outsider)
    ]
    for socket in (alice, bob, bob_too):
        await subscribe(socket, world.direct)
    await alice.send_json_to(
        {
            "type": "chat.send",
            "conversation_id": world.direct.pk,
            "body": "hi <b>bob</b>",
            "client_message_id": "c1",
            "ref": 1,
        }
    )
    # The sender's own sockets get the message like every member's, maybe before the reply.
    reply = await next_frame(alice, "chat.sent", skip=("chat.message.created",))
    assert reply["ref"] == 1
    message = reply["message"]
    assert (message["body"], message["author"]["username"], message["replayed"]) == ("hi <b>bob</b>", "alice", False)
    for socket in (bob, bob_too):
        created = await next_frame(socket, "chat.message.created")
        assert created["message"]["id"] == message["id"]
        assert created["message"]["body"] == "hi <b>bob</b>"
    assert await carol.receive_nothing(timeout=0.3)
    for socket in (alice, bob, bob_too, carol):
        await socket.disconnect()


# Every chat frame an outsider might try, and the error each one gets.
OUTSIDER_FRAMES = [
    ({"type": "chat.subscribe", "conversation_ids": ["{group}"]}, "conversation_not_found"),
    ({"type": "chat.resume", "conversations": {"{group}": 0}}, "conversation_not_found"),
    ({"type": "chat.send", "conversation_id": "{group}", "body": "let me in"}, "conversation_not_found"),
    ({"type": "chat.share_fill", "conversation_id": "{group}", "fill_id": "{fill}"}, "conversation_not_found"),
    ({"type": "chat.read", "conversation_id": "{group}", "message_id": 1}, "conversation_not_found"),
    ({"type": "chat.typing", "conversation_id": "{group}"}, "not_subscribed"),
]


def _fill(frame, ids):
    if isinstance(frame, dict):
        return {_fill(k, ids): _fill(v, ids) for k, v in frame.items()}
    if isinstance(frame, list):
        return [_fill(v, ids) for v in frame]
    if isinstance(frame, str) and frame.startswith("{") and frame.endswith("}"):
        return ids[frame[1:-1]]
    return frame


@database_sync_to_async
def outsider_fill(world) -> int:
    trading.account_open(user=world.outsider)
    return trading.order_place(user=world.outsider, symbol="ACME", side="buy", quantity=1).fill.pk


@pytest.mark.parametrize(("frame", "code"), OUTSIDER_FRAMES, ids=[f[0]["type"] for f in OUTSIDER_FRAMES])
async def test_outsiders_can_do_nothing_with_a_conversation(world, ws_headers, frame, code):
    ids = {"group": world.group.pk, "fill": await outsider_fill(world)}
    frame = _fill(frame, ids)
    if frame["type"] == "chat.resume":
        frame["conversations"] = {str(world.group.pk): 0}
    alice = await connect(ws_headers, world.owner)
    await subscribe(alice, world.group)
    carol = await connect(ws_headers, world.outsider)
    await carol.send_json_to({**frame, "ref": "x"})
    error = await next_frame(carol, "error")
    assert (error["code"], error["ref"]) == (code, "x")
    if code == "conversation_not_found":
        assert error["detail"] == "No such conversation."
    # Nothing was posted and nothing followed: a message by alice does not reach carol.
    await send(user=world.owner, conversation_id=world.group.pk, body="members only")
    assert (await next_frame(alice, "chat.message.created"))["message"]["body"] == "members only"
    assert await carol.receive_nothing(timeout=0.3)
    assert await database_sync_to_async(world.group.messages.count)() == 1
    await alice.disconnect()
    await carol.disconnect()


@pytest.mark.parametrize("role", ["owner", "member"])
async def test_members_can_use_every_chat_frame(world, ws_headers, role):
    user = getattr(world, role)
    trading_fill = await database_sync_to_async(
        lambda: (trading.account_open(user=user), trading.order_place(user=user, symbol="ACME", side="buy", quantity=1))
    )()
    fill_id = trading_fill[1].fill.pk
    socket = await connect(ws_headers, user)
    other = await connect(ws_headers, world.member if role == "owner" else world.owner)
    await subscribe(other, world.group)
    await socket.send_json_to({"type": "chat.resume", "conversations": {str(world.group.pk): 0}, "ref": 1})
    assert (await next_frame(socket, "chat.resumed"))["conversation_ids"] == [world.group.pk]
    await socket.send_json_to({"type": "chat.send", "conversation_id": world.group.pk, "body": "hello"})
    sent = (await next_frame(socket, "chat.sent", skip=("chat.message.created",)))["message"]
    await socket.send_json_to({"type": "chat.share_fill", "conversation_id": world.group.pk, "fill_id": fill_id})
    shared = (await next_frame(socket, "chat.sent", skip=("chat.message.created",)))["message"]
    assert shared["payload"]["kind"] == "fill"
    assert shared["payload"]["fill"]["id"] == fill_id
    await socket.send_json_to(
        {"type": "chat.read", "conversation_id": world.group.pk, "message_id": sent["id"], "ref": 3}
    )
    read = await next_frame(socket, "chat.read.updated", skip=("chat.message.created",))
    assert read["conversation_id"] == world.group.pk
    await socket.send_json_to({"type": "chat.typing", "conversation_id": world.group.pk})
    await socket.send_json_to({"type": "chat.presence", "status": "away"})
    assert [(await next_frame(other, "chat.message.created"))["message"]["id"] for _ in range(2)] == [
        sent["id"],
        shared["id"],
    ]
    typing = await next_frame(other, "chat.typing")
    assert typing == {
        "type": "chat.typing",
        "conversation_id": world.group.pk,
        "user": {"id": user.pk, "username": user.username},
    }
    presence = await next_frame(other, "chat.presence")
    assert presence["status"] == "away"
    assert presence["user"]["id"] == user.pk
    await socket.send_json_to({"type": "chat.unsubscribe", "conversation_ids": [world.group.pk], "ref": 4})
    assert (
        await next_frame(
            socket,
            "chat.unsubscribed",
            skip=("chat.message.created", "chat.read.updated", "chat.typing", "chat.presence"),
        )
    )["ref"] == 4
    await socket.disconnect()
    await other.disconnect()


async def test_anonymous_sockets_are_closed_before_any_chat_frame(ws_headers):
    communicator = ContractCommunicator(application, "/ws/", headers=await ws_headers(None))
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.send_json_to({"type": "chat.subscribe", "conversation_ids": [1], "ref": "s"})
    assert (await communicator.receive_json_from(timeout=5))["code"] == "not_authenticated"
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_a_socket_that_announced_presence_says_offline_when_it_closes(world, ws_headers):
    alice, quiet, bob = [await connect(ws_headers, user) for user in (world.owner, world.owner, world.member)]
    for socket in (alice, quiet, bob):
        await subscribe(socket, world.group)
    await alice.send_json_to({"type": "chat.presence", "status": "online"})
    assert (await next_frame(bob, "chat.presence"))["status"] == "online"
    # A socket that never announced itself goes quietly; one that did says it has gone.
    await quiet.disconnect()
    await alice.disconnect()
    gone = await next_frame(bob, "chat.presence")
    assert gone == {
        "type": "chat.presence",
        "conversation_id": world.group.pk,
        "user": {"id": world.owner.pk, "username": world.owner.username},
        "status": "offline",
    }
    assert await bob.receive_nothing(timeout=0.3)
    await bob.disconnect()


async def test_typing_is_rate_limited_and_never_stored(world, ws_headers):
    alice = await connect(ws_headers, world.owner)
    bob = await connect(ws_headers, world.member)
    for socket in (alice, bob):
        await subscribe(socket, world.group)
    for _ in range(20):
        await alice.send_json_to({"type": "chat.typing", "conversation_id": world.group.pk})
    await alice.send_json_to({"type": "ping", "ref": "p"})
    await next_frame(alice, "pong", skip=("chat.typing",))
    received = 0
    while not await bob.receive_nothing(timeout=0.5):
        frame = await bob.receive_json_from(timeout=5)
        assert frame["type"] == "chat.typing"
        received += 1
    assert 1 <= received <= 3
    assert await database_sync_to_async(world.group.messages.count)() == 0
    await alice.disconnect()
    await bob.disconnect()


async def test_a_removed_member_stops_receiving_at_once_on_open_sockets(world, ws_headers):
    alice = await connect(ws_headers, world.owner)
    bob_sockets = [await connect(ws_headers, world.member) for _ in range(2)]
    for socket in (alice, *bob_sockets):
        await subscribe(socket, world.group)
    await send(user=world.owner, conversation_id=world.group.pk, body="before")
    for socket in bob_sockets:
        assert (await next_frame(socket, "chat.message.created"))["message"]["body"] == "before"

    await database_sync_to_async(services.member_remove)(
        actor=world.owner, conversation_id=world.group.pk, user_id=world.member.pk
    )
    for socket in bob_sockets:
        assert await next_frame(socket, "chat.conversation.removed") == {
            "type": "chat.conversation.removed",
            "v": 1,
            "conversation_id": world.group.pk,
            "reason": "removed",
        }
    await send(user=world.owner, conversation_id=world.group.pk, body="after")
    await next_frame(alice, "chat.message.created", skip=("chat.message.created", "chat.member.left"))
    for socket in bob_sockets:
        assert await socket.receive_nothing(timeout=0.3)
        # And cannot follow it again.
        await socket.send_json_to({"type": "chat.subscribe", "conversation_ids": [world.group.pk]})
        assert (await next_frame(socket, "error"))["code"] == "conversation_not_found"
    for socket in (alice, *bob_sockets):
        await socket.disconnect()


async def test_a_new_conversation_is_announced_to_the_users_sockets(world, ws_headers):
    carol = await connect(ws_headers, world.outsider)
    await database_sync_to_async(services.direct_start)(user=world.owner, other_username="carol")
    added = await carol.receive_json_from(timeout=5)
    assert added["type"] == "chat.conversation.added"
    assert added["conversation"]["kind"] == "direct"
    await carol.disconnect()


async def test_reconnect_and_resume_brings_missed_messages_in_order_once(world, ws_headers):
    bob = await connect(ws_headers, world.member)
    await subscribe(bob, world.group)
    seen = []
    for n in range(3):
        await send(user=world.owner, conversation_id=world.group.pk, body=f"live {n}")
        seen.append((await next_frame(bob, "chat.message.created"))["message"]["id"])
    await bob.disconnect()

    missed = [(await send(user=world.owner, conversation_id=world.group.pk, body=f"missed {n}")).pk for n in range(4)]
    bob = await connect(ws_headers, world.member)
    await bob.send_json_to({"type": "chat.resume", "conversations": {str(world.group.pk): seen[-1]}, "ref": "r"})
    got = []
    while True:
        frame = await bob.receive_json_from(timeout=5)
        if frame["type"] == "chat.resumed":
            assert frame == {"type": "chat.resumed", "conversation_ids": [world.group.pk], "more": [], "ref": "r"}
            break
        assert frame["type"] == "chat.message.created"
        got.append(frame["message"]["id"])
    assert got == missed
    live = await send(user=world.owner, conversation_id=world.group.pk, body="live again")
    assert (await next_frame(bob, "chat.message.created"))["message"]["id"] == live.pk
    assert await bob.receive_nothing(timeout=0.3)
    await bob.disconnect()


@pytest.mark.postgres  # another thread writes while the socket reads: SQLite would lock the table
async def test_resume_while_messages_keep_arriving_has_no_gaps_or_duplicates(world, ws_headers, settings):
    settings.STOCKCHAT_CHAT_SENDS_PER_MINUTE = 1000
    early = [(await send(user=world.owner, conversation_id=world.group.pk, body=f"early {n}")).pk for n in range(30)]
    total = 60
    started = threading.Event()

    def keep_sending():
        started.set()
        for n in range(total - len(early)):
            services.message_send(user=world.owner, conversation_id=world.group.pk, body=f"during {n}")

    bob = await connect(ws_headers, world.member)
    sender = asyncio.get_running_loop().run_in_executor(None, keep_sending)
    await asyncio.to_thread(started.wait, 5)
    await bob.send_json_to({"type": "chat.resume", "conversations": {str(world.group.pk): early[4]}})
    got = []
    while len(got) < total - 5:
        frame = await bob.receive_json_from(timeout=10)
        if frame["type"] == "chat.message.created":
            got.append(frame["message"]["id"])
        else:
            assert frame["type"] == "chat.resumed"
    await sender
    expected = await database_sync_to_async(
        lambda: list(world.group.messages.filter(id__gt=early[4]).order_by("id").values_list("id", flat=True))
    )()
    assert got == expected
    assert await bob.receive_nothing(timeout=0.3)
    await bob.disconnect()


async def test_a_resent_client_message_id_over_the_socket_is_not_sent_twice(world, ws_headers):
    alice = await connect(ws_headers, world.owner)
    bob = await connect(ws_headers, world.member)
    await subscribe(bob, world.group)
    frame = {"type": "chat.send", "conversation_id": world.group.pk, "body": "once", "client_message_id": "dup"}
    await alice.send_json_to(frame)
    first = (await next_frame(alice, "chat.sent"))["message"]
    await alice.send_json_to(frame)
    again = (await next_frame(alice, "chat.sent"))["message"]
    assert again["id"] == first["id"]
    assert again["replayed"] is True
    assert (await next_frame(bob, "chat.message.created"))["message"]["id"] == first["id"]
    assert await bob.receive_nothing(timeout=0.3)
    await alice.disconnect()
    await bob.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "chat.subscribe"},
        {"type": "chat.subscribe", "conversation_ids": []},
        {"type": "chat.subscribe", "conversation_ids": ["1"]},
        {"type": "chat.resume", "conversations": []},
        {"type": "chat.resume", "conversations": {"x": 1}},
        {"type": "chat.resume", "conversations": {"1": -1}},
        {"type": "chat.send", "conversation_id": "1", "body": "x"},
        {"type": "chat.send", "conversation_id": True, "body": "x"},
        {"type": "chat.presence", "status": "busy"},
    ],
)
async def test_malformed_chat_frames_get_invalid(world, ws_headers, frame):
    socket = await connect(ws_headers, world.owner)
    await socket.send_json_to({**frame, "ref": 5})
    error = await next_frame(socket, "error")
    assert (error["code"], error["ref"]) == ("invalid", 5)
    await socket.disconnect()


async def test_a_body_with_markup_is_sent_as_text(world, ws_headers):
    bob = await connect(ws_headers, world.member)
    await subscribe(bob, world.group)
    body = "<script>alert(1)</script>"
    await send(user=world.owner, conversation_id=world.group.pk, body=body)
    frame = await next_frame(bob, "chat.message.created")
    assert frame["message"]["body"] == body
    await bob.disconnect()


async def test_a_message_committed_between_follow_and_read_is_sent_once_and_in_order(world, ws_headers, monkeypatch):
    from chat import consumers
    from core.realtime.hub import FanoutHub

    backlog = [(await send(user=world.owner, conversation_id=world.group.pk, body=f"old {n}")).pk for n in range(3)]
    dispatched = threading.Event()
    real_dispatch, real_read = FanoutHub.dispatch, consumers._history_page

    def dispatch(hub, message):
        count = real_dispatch(hub, message)
        if message.get("frame", {}).get("type") == "chat.message.created":
            dispatched.set()
        return count

    def read_after_a_live_message(**kwargs):
        # The socket already follows the conversation: this message reaches it live, then
        # is also in what the read finds.
        services.message_send(user=world.owner, conversation_id=world.group.pk, body="in between")
        assert dispatched.wait(5)
        return real_read(**kwargs)

    monkeypatch.setattr(FanoutHub, "dispatch", dispatch)
    monkeypatch.setattr(consumers, "_history_page", read_after_a_live_message)
    bob = await connect(ws_headers, world.member)
    await bob.send_json_to({"type": "chat.resume", "conversations": {str(world.group.pk): 0}})
    got = []
    while (frame := await bob.receive_json_from(timeout=5))["type"] != "chat.resumed":
        got.append((frame["type"], frame["message"]["body"]))
    assert got == [("chat.message.created", f"old {n}") for n in range(3)] + [("chat.message.created", "in between")]
    assert len(backlog) == 3
    assert await bob.receive_nothing(timeout=0.3)
    await bob.disconnect()


async def test_presence_can_name_the_conversations_it_goes_to(world, ws_headers):
    alice, bob = await connect(ws_headers, world.owner), await connect(ws_headers, world.member)
    for socket in (alice, bob):
        await subscribe(socket, world.group, world.direct)
    await alice.send_json_to({"type": "chat.presence", "status": "online", "conversation_ids": [world.direct.pk]})
    told = await next_frame(bob, "chat.presence")
    assert told["conversation_id"] == world.direct.pk
    assert await bob.receive_nothing(timeout=0.3)
    # Only followed conversations can be named.
    await alice.send_json_to(
        {"type": "chat.presence", "status": "online", "conversation_ids": [world.direct.pk + 1000], "ref": "p"}
    )
    error = await next_frame(alice, "error", skip=("chat.presence",))
    assert error["code"] == "not_subscribed"
    assert error["ref"] == "p"
    # Leaving says "offline" only where it said it was here.
    await alice.disconnect()
    gone = await next_frame(bob, "chat.presence")
    assert (gone["conversation_id"], gone["status"]) == (world.direct.pk, "offline")
    assert await bob.receive_nothing(timeout=0.3)
    await bob.disconnect()


async def resume_page(socket, conversations: dict[int, int], ref="r") -> tuple[list[dict], dict]:
    """One chat.resume: the messages it brought and its chat.resumed reply."""
    await socket.send_json_to(
        {"type": "chat.resume", "conversations": {str(k): v for k, v in conversations.items()}, "ref": ref}
    )
    messages = []
    while (frame := await socket.receive_json_from(timeout=10))["type"] != "chat.resumed":
        assert frame["type"] == "chat.message.created", frame
        messages.append(frame["message"])
    return messages, frame


@pytest.mark.postgres  # 50,000 rows: run once, on the production database
async def test_a_client_that_missed_50000_messages_catches_up_in_bounded_pages(world, ws_headers, monkeypatch):
    from chat import consumers
    from chat.tests.conftest import pile_of_messages
    from core.realtime import socket as socket_module

    # A client that waits for each reply before asking again; the frame budget is tested apart.
    monkeypatch.setattr(socket_module, "FRAME_RATE_PER_SECOND", 1e9)
    monkeypatch.setattr(socket_module, "FRAME_BURST", 10**9)
    await database_sync_to_async(pile_of_messages)(world.owner, world.group, 50_000)
    expected = await database_sync_to_async(
        lambda: list(world.group.messages.order_by("id").values_list("id", flat=True))
    )()
    bob = await connect(ws_headers, world.member)
    got: list[int] = []
    pages = 0
    while True:
        messages, reply = await resume_page(bob, {world.group.pk: got[-1] if got else 0})
        pages += 1
        assert len(messages) <= consumers.RESUME_PAGE
        got += [m["id"] for m in messages]
        if pages == 3:
            # Live while the client is behind: not sent now (it would be a gap), but in its page.
            live = await send(user=world.owner, conversation_id=world.group.pk, body="live while behind")
            expected.append(live.pk)
        if not reply["more"]:
            break
        assert reply["more"] == [world.group.pk]
    assert got == expected
    assert pages == -(-len(expected) // consumers.RESUME_PAGE)
    # Caught up: live messages flow again.
    live = await send(user=world.owner, conversation_id=world.group.pk, body="live again")
    assert (await next_frame(bob, "chat.message.created"))["message"]["id"] == live.pk
    assert await bob.receive_nothing(timeout=0.3)
    await bob.disconnect()


async def test_one_resume_frame_reads_at_most_its_page_per_conversation_and_its_total(world, ws_headers, monkeypatch):
    from chat import consumers
    from chat.tests.conftest import pile_of_messages

    # The bounds docs/websocket.md gives; smaller ones below keep the test quick.
    assert (consumers.RESUME_PAGE, consumers.RESUME_FRAME_LIMIT, consumers.RESUME_COST) == (200, 300, 4)
    monkeypatch.setattr(consumers, "RESUME_PAGE", 4)
    monkeypatch.setattr(consumers, "RESUME_FRAME_LIMIT", 6)
    for conversation in (world.group, world.direct):
        await database_sync_to_async(pile_of_messages)(world.owner, conversation, 5)
    bob = await connect(ws_headers, world.member)
    first, reply = await resume_page(bob, {world.group.pk: 0, world.direct.pk: 0})
    assert [(m["conversation_id"], m["seq"]) for m in first] == [(world.group.pk, s) for s in (1, 2, 3, 4)] + [
        (world.direct.pk, s) for s in (1, 2)
    ]
    assert reply == {
        "type": "chat.resumed",
        "conversation_ids": [world.group.pk, world.direct.pk],
        "more": [world.group.pk, world.direct.pk],
        "ref": "r",
    }
    last = {m["conversation_id"]: m["id"] for m in first}
    second, reply = await resume_page(bob, last)
    assert [(m["conversation_id"], m["seq"]) for m in second] == [(world.group.pk, 5)] + [
        (world.direct.pk, s) for s in (3, 4, 5)
    ]
    assert reply["more"] == []
    await bob.disconnect()


async def test_resume_spends_more_of_the_frame_budget_than_other_frames(world, ws_headers, monkeypatch):
    from chat import consumers
    from core.realtime import socket as socket_module

    # Two resumes, the one token a refused frame still spends, and a ping.
    monkeypatch.setattr(socket_module, "FRAME_BURST", 2 * consumers.RESUME_COST + 2)
    monkeypatch.setattr(socket_module, "FRAME_RATE_PER_SECOND", 0.001)
    bob = await connect(ws_headers, world.member)
    for ref in ("a", "b"):
        assert (await resume_page(bob, {world.group.pk: 0}, ref=ref))[1]["ref"] == ref
    await bob.send_json_to({"type": "chat.resume", "conversations": {str(world.group.pk): 0}, "ref": "c"})
    error = await next_frame(bob, "error")
    assert (error["code"], error["ref"]) == ("rate_limited", "c")
    # A cheap frame still fits in what is left.
    await bob.send_json_to({"type": "ping", "ref": "p"})
    assert await next_frame(bob, "pong") == {"type": "pong", "ref": "p"}
    await bob.disconnect()
