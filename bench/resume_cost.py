"""What one ``chat.resume`` frame costs the server over a long backlog, and what catching up costs.

Starts a throwaway PostgreSQL, migrates, bulk-inserts ``--messages`` messages into one group
conversation, opens a socket on the real ASGI application (in-memory channel layer, as
``make run``) and sends ``chat.resume`` from 0. Measured from sending the frame to its end (the
``chat.resumed`` reply, or the socket's close when the frame overflowed its outbox):

- CPU seconds of the whole process (consumer, database thread and the in-process client);
- the peak of Python memory allocated meanwhile (tracemalloc, in a second run: tracing slows the
  first run's figures down);
- frames received and how the frame ended.

Then, unless the frame ended the socket, follows ``more`` until caught up (the frame budget is
lifted for this, as for a client that waits between pages) and reports the total.

    .venv/bin/python bench/resume_cost.py --messages 50000

Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ["STOCKCHAT_MARKET_FEED"] = "off"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "stockchat.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(messages: int) -> tuple[int, str]:
    """A group of two with ``messages`` messages by the other member; the reader's session cookie."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test import Client

    from chat.models import Conversation, ConversationKind, MemberRole, Membership, Message

    User = get_user_model()
    reader, other = User.objects.create_user("reader"), User.objects.create_user("other")
    with transaction.atomic():
        conversation = Conversation.objects.create(kind=ConversationKind.GROUP, title="backlog", last_seq=messages)
        Membership.objects.bulk_create(
            [
                Membership(conversation=conversation, user=reader, role=MemberRole.OWNER),
                Membership(conversation=conversation, user=other),
            ]
        )
        for start in range(0, messages, 20_000):
            Message.objects.bulk_create(
                Message(conversation=conversation, seq=seq, author=other, body=f"message number {seq} $ACME")
                for seq in range(start + 1, min(start + 20_000, messages) + 1)
            )
    client = Client()
    client.force_login(reader)
    return conversation.pk, f"sessionid={client.cookies['sessionid'].value}"


async def open_socket(cookie: str):
    from channels.testing import WebsocketCommunicator

    from stockchat.asgi import application

    socket = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"cookie", cookie.encode())],
    )
    connected, _ = await socket.connect(timeout=10)
    assert connected
    assert json.loads((await socket.receive_output(timeout=10))["text"])["type"] == "hello"
    return socket


async def one_frame(socket, conversation_id: int, after: int) -> tuple[str, int, int, list[int]]:
    """Send one chat.resume; returns how it ended, messages received, the last id, and ``more``."""
    await socket.send_to(text_data=json.dumps({"type": "chat.resume", "conversations": {str(conversation_id): after}}))
    received, last = 0, after
    while True:
        output = await socket.receive_output(timeout=300)
        if output["type"] == "websocket.close":
            return f"closed {output.get('code')}", received, last, []
        text = output["text"]
        if text.startswith('{"type":"chat.message.created"'):
            received += 1
            last = json.loads(text)["message"]["id"]
            continue
        frame = json.loads(text)
        if frame["type"] == "chat.resumed":
            return "chat.resumed", received, last, frame.get("more", [])
        if frame["type"] == "error":
            return f"error {frame['code']}", received, last, []


async def run(conversation_id: int, cookie: str, trace: bool) -> dict:
    from core.realtime import socket as socket_module

    socket_module.FRAME_RATE_PER_SECOND = 1e9
    socket_module.FRAME_BURST = 10**9
    socket = await open_socket(cookie)
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    cpu, wall = time.process_time(), time.perf_counter()
    ended, received, last, more = await one_frame(socket, conversation_id, 0)
    result = {
        "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - wall,
        "ended": ended,
        "received": received,
        "more": bool(more),
    }
    if trace:
        result["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    if ended == "chat.resumed" and not trace:
        frames, total = 1, received
        while more:
            _, got, last, more = await one_frame(socket, conversation_id, last)
            frames, total = frames + 1, total + got
        result.update(catch_up_cpu=time.process_time() - cpu, catch_up_frames=frames, catch_up_messages=total)
    if ended.startswith("closed"):
        return result
    await socket.disconnect()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    args = parser.parse_args()

    import psycopg

    from testsupport.servers import PostgresServer

    server = PostgresServer().start()
    try:
        with psycopg.connect(server.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE stockchat")
        setup_django(server.url)
        conversation_id, cookie = seed(args.messages)
        timed = asyncio.run(run(conversation_id, cookie, trace=False))
        traced = asyncio.run(run(conversation_id, cookie, trace=True))
        print(f"| one chat.resume from 0 over {args.messages} messages | value |")
        print("|---|---|")
        print(f"| CPU time of the frame | {timed['cpu']:.2f} s |")
        print(f"| wall time of the frame | {timed['wall']:.2f} s |")
        print(f"| peak Python memory allocated during the frame | {traced['peak_mib']:.1f} MiB |")
        print(f"| ended with | {timed['ended']} |")
        print(f"| messages delivered by the frame | {timed['received']} |")
        print(f"| more to follow | {timed['more']} |")
        if "catch_up_cpu" in timed:
            print(
                f"| catching up completely | {timed['catch_up_messages']} messages in {timed['catch_up_frames']}"
                f" frames, {timed['catch_up_cpu']:.1f} s CPU |"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
