"""A stream of numbered messages through a Redis restart, on real servers.

Alice's socket is on one daphne process, Bob's on another; PostgreSQL and Redis
are real. Redis restarts (losing every subscription) while Alice is sending.
Bob's client does what docs/websocket.md asks of a client: it keeps the
messages it got by ``seq``, and resumes from the last one it has in sequence.
It ends with every message exactly once and in order, and live delivery works
again after the restart without reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
import websockets
from channels.db import database_sync_to_async

from chat import services
from conftest import session_cookie_for
from testsupport.processes import app_environment, start_daphne

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

STREAM = 40
RESTART_AFTER = 10


@database_sync_to_async
def prepare(make_user) -> tuple[int, str, str]:
    alice, bob = make_user("alice"), make_user("bob")
    direct = services.direct_start(user=alice, other_username="bob")
    return direct.pk, session_cookie_for(alice), session_cookie_for(bob)


async def open_socket(port: int, cookie: str):
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": cookie},
        open_timeout=10,
    )
    assert json.loads(await socket.recv())["type"] == "hello"
    return socket


class Reader:
    """Bob's client: every chat message frame by seq, and the replies it waits for."""

    def __init__(self, socket) -> None:
        self.socket = socket
        self.by_seq: dict[int, dict] = {}
        self.received_ids: list[int] = []
        self.replies: asyncio.Queue[dict] = asyncio.Queue()
        self.arrived = asyncio.Event()

    async def run(self) -> None:
        async for text in self.socket:
            frame = json.loads(text)
            if frame["type"] == "chat.message.created":
                message = frame["message"]
                self.received_ids.append(message["id"])
                self.by_seq[message["seq"]] = message
                self.arrived.set()
            elif frame["type"] in ("chat.resumed", "error"):
                await self.replies.put(frame)

    def last_in_sequence(self) -> dict | None:
        seq, last = 1, None
        while seq in self.by_seq:
            last, seq = self.by_seq[seq], seq + 1
        return last

    async def resume(self, conversation_id: int) -> None:
        last = self.last_in_sequence()
        await self.socket.send(
            json.dumps({"type": "chat.resume", "conversations": {str(conversation_id): last["id"] if last else 0}})
        )
        async with asyncio.timeout(20):
            reply = await self.replies.get()
        assert reply["type"] == "chat.resumed", reply

    async def wait_for_seq(self, seq: int) -> None:
        async with asyncio.timeout(20):
            while seq not in self.by_seq:
                self.arrived.clear()
                await self.arrived.wait()


async def send_numbered(socket, conversation_id: int, number: int) -> None:
    await socket.send(
        json.dumps(
            {
                "type": "chat.send",
                "conversation_id": conversation_id,
                "body": str(number),
                "client_message_id": f"n{number}",
                "ref": number,
            }
        )
    )
    async with asyncio.timeout(20):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == "chat.sent" and frame["ref"] == number:
                return
            assert frame["type"] != "error", frame


async def test_numbered_stream_arrives_complete_and_in_order_across_a_redis_restart(make_user, redis_server, redis_url):
    conversation_id, alice_cookie, bob_cookie = await prepare(make_user)
    env = app_environment(REDIS_URL=redis_url, STOCKCHAT_MARKET_FEED="off", STOCKCHAT_CHAT_SENDS_PER_MINUTE="1000")
    processes = []
    reader_task = None
    try:
        (daphne_a, port_a), (daphne_b, port_b) = start_daphne(env), start_daphne(env)
        processes += [daphne_a, daphne_b]
        alice = await open_socket(port_a, alice_cookie)
        bob = Reader(await open_socket(port_b, bob_cookie))
        reader_task = asyncio.create_task(bob.run())
        await bob.resume(conversation_id)

        restart = None
        for number in range(1, STREAM + 1):
            await send_numbered(alice, conversation_id, number)
            if number == RESTART_AFTER:
                await bob.wait_for_seq(RESTART_AFTER)
                # Redis goes away and comes back empty while Alice keeps sending.
                restart = asyncio.create_task(asyncio.to_thread(redis_server.restart))
        await restart

        await bob.resume(conversation_id)
        assert sorted(bob.by_seq) == list(range(1, STREAM + 1))
        assert [bob.by_seq[seq]["body"] for seq in range(1, STREAM + 1)] == [str(n) for n in range(1, STREAM + 1)]
        ids = [bob.by_seq[seq]["id"] for seq in range(1, STREAM + 1)]
        assert ids == sorted(ids)
        assert len(bob.received_ids) == len(set(bob.received_ids)) == STREAM

        # Live delivery comes back without a reconnect: each web process notices that its
        # subscription is gone and subscribes again (core.realtime.hub). Messages sent
        # before that are lost live and found by the next resume.
        number = STREAM
        async with asyncio.timeout(60):
            while True:
                number += 1
                await send_numbered(alice, conversation_id, number)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1):
                        await bob.wait_for_seq(number)
                        break
        await bob.resume(conversation_id)
        assert [bob.by_seq[seq]["body"] for seq in sorted(bob.by_seq)] == [str(n) for n in range(1, number + 1)]
        assert len(bob.received_ids) == len(set(bob.received_ids)) == number

        await alice.close()
        await bob.socket.close()
    finally:
        if reader_task is not None:
            reader_task.cancel()
        for process in processes:
            process.stop()
