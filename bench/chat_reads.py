"""How the chat reads scale: conversation list, history pages and search on PostgreSQL.

Starts a throwaway PostgreSQL, migrates, and gives one reader ``--conversations``
group conversations of ``--messages`` messages each (bulk-inserted; about a
tenth by the reader, the rest by others). Then times, median of ``--runs``:

- ``conversation_list``: every conversation with its last message and unread count,
- ``message_history``: the newest page and a page after an old id,
- ``message_search``: full-text search over the reader's conversations,

with the number of queries each takes (which must not grow with the data).

    .venv/bin/python bench/chat_reads.py --conversations 200 --messages 200 --runs 5

Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ["anvil", "buy", "sell", "hold", "rally", "dip", "earnings", "guidance", "split", "dividend", "chart", "volume"]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
    os.environ["DJANGO_SETTINGS_MODULE"] = "stockchat.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(conversations: int, messages: int):
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from chat.models import Conversation, ConversationKind, MemberRole, Membership, Message

    User = get_user_model()
    reader = User.objects.create_user("reader")
    others = [User.objects.create_user(f"other{n}") for n in range(10)]
    with transaction.atomic():
        rows = Conversation.objects.bulk_create(
            Conversation(kind=ConversationKind.GROUP, title=f"g{n}", last_seq=messages) for n in range(conversations)
        )
        memberships = []
        for conversation in rows:
            memberships.append(Membership(conversation=conversation, user=reader, role=MemberRole.OWNER))
            memberships += [Membership(conversation=conversation, user=other) for other in others[:3]]
        Membership.objects.bulk_create(memberships)
        batch = []
        for conversation in rows:
            for seq in range(1, messages + 1):
                author = reader if seq % 10 == 0 else others[seq % 3]
                body = " ".join(WORDS[(seq * k) % len(WORDS)] for k in range(1, 8))
                batch.append(Message(conversation=conversation, seq=seq, author=author, body=body))
            if len(batch) >= 20_000:
                Message.objects.bulk_create(batch)
                batch = []
        Message.objects.bulk_create(batch)
        # Each conversation read up to its middle.
        for conversation in rows:
            middle = Message.objects.filter(conversation=conversation, seq=messages // 2).values_list("id", flat=True)
            Membership.objects.filter(conversation=conversation, user=reader).update(last_read_message_id=middle[0])
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return reader, rows


def measure(func, runs: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            func()
            times.append(time.perf_counter() - start)
        queries = len(captured)
    return statistics.median(times) * 1000, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--messages", type=int, default=200, help="messages per conversation")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import psycopg

    from testsupport.servers import PostgresServer

    server = PostgresServer().start()
    try:
        with psycopg.connect(server.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE stockchat")
        setup_django(server.url)
        started = time.perf_counter()
        reader, rows = seed(args.conversations, args.messages)
        total = args.conversations * args.messages
        print(f"seeded {total} messages in {time.perf_counter() - started:.1f} s\n")

        from chat import selectors

        middle = rows[0].messages.order_by("id").values_list("id", flat=True)[args.messages // 2]
        cases = [
            ("conversation_list (all, last message, unread)", lambda: selectors.conversation_list(viewer=reader)),
            (
                "message_history newest 50",
                lambda: selectors.message_history(viewer=reader, conversation_id=rows[0].pk, limit=50),
            ),
            (
                "message_history 50 after an id",
                lambda: selectors.message_history(viewer=reader, conversation_id=rows[0].pk, after=middle, limit=50),
            ),
            (
                "message_search 'rallies' newest 50",
                lambda: list(selectors.message_search(viewer=reader, query="rallies")[:50]),
            ),
        ]
        print(f"| read ({args.conversations} conversations x {args.messages} messages) | median ms | queries |")
        print("|---|---|---|")
        for name, func in cases:
            ms, queries = measure(func, args.runs)
            print(f"| {name} | {ms:.1f} | {queries} |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
