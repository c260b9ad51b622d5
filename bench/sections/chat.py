"""Chat fan-out: one conversation's members on sockets, one sender; latency to each member against a bare relay."""

from __future__ import annotations

from bench import harness
from bench.common import (
    bench_users,
    judged_server,
    median_of,
    others_note,
    ratio,
    server_label,
    verdict,
)


def seed_conversation(members: int):
    from chat.models import Conversation, ConversationKind, MemberRole, Membership

    users, cookies = bench_users(members + 1)
    sender = users[0]
    conversation = Conversation.objects.create(kind=ConversationKind.GROUP, title="fan-out", created_by=sender)
    Membership.objects.bulk_create(
        Membership(conversation=conversation, user=user, role=MemberRole.OWNER if user == sender else MemberRole.MEMBER)
        for user in users
    )
    harness.close_db()
    return conversation.pk, cookies[0], cookies[1:]


# Issue 18's target for the default server.
CHAT_P99_TARGET = 1.5


def chat_section(stack: harness.Stack, args) -> dict:
    conversation_id, sender_cookie, cookies = seed_conversation(args.members)
    base = {
        "mode": "fanout",
        "rate": args.rate,
        "seconds": args.chat_seconds,
        "conversation_id": conversation_id,
        "windows": args.runs,
    }
    figures = {}

    def measure(name: str, server: harness.Server, protocol: str, path: str, with_cookies: bool) -> None:
        config = {
            **base,
            "protocol": protocol,
            "url": f"ws://127.0.0.1:{server.port}{path}",
            "origin": f"http://127.0.0.1:{server.port}",
            "cookies": cookies if with_cookies else [None] * len(cookies),
            "sender_cookie": sender_cookie if with_cookies else None,
        }
        try:
            figures[name] = median_of(harness.run_loadgen(config)["windows"])
        finally:
            server.stop()

    measure("relay", harness.start_relay(), "relay", "/", with_cookies=False)
    for server in args.servers:
        measure(server, harness.start_server(server, stack.env), "stockchat", "/ws/", with_cookies=True)
    # The tutorial design is a comparison of designs, not of servers: on the judged server only.
    tutorial_app = harness.start_server(judged_server(args), stack.env, "bench.asgi:application")
    measure("tutorial", tutorial_app, "tutorial", "/tutorial/", True)
    return figures


def chat_report(figures: dict, args) -> list[str]:
    relay, tutorial = figures["relay"], figures["tutorial"]

    def met(row: dict) -> bool:
        return row["p99_ms"] <= CHAT_P99_TARGET * relay["p99_ms"] and row["delivered_pct"] == 100.0 and row["gaps"] == 0

    judged = judged_server(args)
    ours = figures[judged]
    lines = [
        "## Chat fan-out",
        "",
        f"{args.members} members in one conversation, each with a socket; one more socket sends "
        f"{args.rate} messages/s for {args.chat_seconds:g} s (sequence number and send time in the body, "
        f"10 warm-up messages left out). Latency is from send to each member's receipt. "
        f"Median of {ours['runs']} runs, one after the other on the same sockets.",
        "",
        "| design | p50 ms | p99 ms | p99 vs relay | delivered | gaps |",
        "|---|---|---|---|---|---|",
    ]
    rows = [("bare `websockets` relay (baseline)", relay)]
    rows += [
        (f"stockchat: {server_label(server, args)}, `/ws/`, Redis pub/sub layer, per-process hub", figures[server])
        for server in args.servers
    ]
    rows.append((f"Channels tutorial: consumer `group_add` + `group_send`, RedisChannelLayer, {judged}", tutorial))
    for label, row in rows:
        lines.append(
            f"| {label} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {ratio(row['p99_ms'], relay['p99_ms'])} "
            f"| {row['delivered_pct']:.2f}% | {row['gaps']:g} |"
        )
    lines += [
        "",
        f"Target: p99 ≤ {CHAT_P99_TARGET}x baseline, 100% delivered, no gaps: {verdict(met(ours))} for {judged} "
        f"(p99 {ratio(ours['p99_ms'], relay['p99_ms'])}){others_note(figures, args, met, 'p99_ms', relay['p99_ms'])}.",
        "",
    ]
    return lines
