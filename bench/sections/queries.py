"""Queries per page: each URL's SQL query count with the base rows and with ten times as many."""

from __future__ import annotations

from bench import harness
from bench.common import (
    bench_users,
    verdict,
)

QUERY_URLS = [
    "/",
    "/accounts/tokens/",
    "/api/v1/me/",
    "/api/v1/account",
    "/api/v1/account/activities",
    "/api/v1/account/portfolio/history",
    "/api/v1/orders",
    "/api/v1/positions",
    "/api/v1/assets",
    "/api/v1/assets/ACME",
    "/api/v1/assets/ACME/bars",
    "/api/v1/watchlists",
    "/api/v1/conversations",
    "/api/v1/conversations/{conversation}",
    "/api/v1/conversations/{conversation}/members",
    "/api/v1/conversations/{conversation}/messages",
    "/api/v1/messages/search?q=anvil",
]


def seed_reader(name: str, scale: int) -> tuple:
    """A user with ``scale`` times the base rows: orders, fills, conversations, messages, members."""
    from django.contrib.auth import get_user_model

    from chat.services import group_create, message_send
    from trading.services import order_place

    User = get_user_model()
    reader = User.objects.create_user(name)  # opens the trading account
    symbols = ["ACME", "BRCK", "CLDW"]
    for n in range(5 * scale):
        order_place(user=reader, symbol=symbols[n % 3], side="buy", quantity=1)
        order_place(user=reader, symbol=symbols[n % 3], side="buy", type="limit", quantity=1, limit_price="1.00")
    others, _ = bench_users(3 * scale)
    conversation = None
    for n in range(3 * scale):
        conversation = group_create(user=reader, title=f"{name} {n}", member_usernames=[u.username for u in others])
        for m in range(5 * scale):
            message_send(user=reader, conversation_id=conversation.pk, body=f"anvil news {m} $ACME")
    return reader, conversation.pk


def count_queries(reader, conversation_id: int) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    client.force_login(reader)
    counts = {}
    for template in QUERY_URLS:
        url = template.format(conversation=conversation_id)
        client.get(url)  # warm-up: first-use caches are not per-page work
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        counts[template] = {"status": response.status_code, "queries": len(captured)}
    return counts


def queries_section(stack: harness.Stack, args) -> dict:
    one = count_queries(*seed_reader("reader1x", 1))
    ten = count_queries(*seed_reader("reader10x", 10))
    harness.close_db()
    return {"1x": one, "10x": ten}


def queries_report(figures: dict, args) -> list[str]:
    one, ten = figures["1x"], figures["10x"]
    lines = [
        "## Queries per page",
        "",
        "Two readers on the same database: one with the base rows (5 filled and 5 open orders, 3 group "
        "conversations of 5 messages, 3 other members), one with 10x each (50 and 50 orders, 30 conversations of "
        "50 messages, 30 members). Each URL is read once to warm up, then its SQL queries counted (Django test "
        "client, signed in).",
        "",
        "| URL | status | queries 1x | queries 10x | equal |",
        "|---|---|---|---|---|",
    ]
    ok = True
    for url in QUERY_URLS:
        a, b = one[url], ten[url]
        same = a["queries"] == b["queries"]
        ok = ok and same and a["status"] == 200 and b["status"] == 200
        lines.append(
            f"| `{url}` | {a['status']} / {b['status']} | {a['queries']} | {b['queries']} "
            f"| {'yes' if same else '**no**'} |"
        )
    lines += ["", f"Target: equal counts: {verdict(ok)}.", ""]
    return lines
