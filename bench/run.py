"""Every stockchat benchmark in one go, each figure against a baseline measured in
the same run; writes ``bench/results/REPORT.md`` (and ``results.json``).

    .venv/bin/python bench/run.py                 # what `make bench` runs
    .venv/bin/python bench/run.py --only chat     # one section: chat, prices, orders, api, idle, queries
    .venv/bin/python bench/run.py --quick         # shorter runs, one run each (a smoke check)

Starts a throwaway PostgreSQL and Redis, seeds them, and runs each server under
test (daphne, the bare relay, the feed worker) in its own process, pinned to
another core than the load generators (bench/loadgen.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

RESULTS = harness.ROOT / "bench" / "results"


def median_of(runs: list[dict]) -> dict:
    """The median of each numeric figure over the runs (other values from the last run)."""
    merged = dict(runs[-1])
    for key, value in runs[-1].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            merged[key] = statistics.median(run[key] for run in runs)
    merged["runs"] = len(runs)
    return merged


def repeat(times: int, fn) -> dict:
    return median_of([fn() for _ in range(times)])


def ratio(value: float, base: float) -> str:
    if not base or value != value or base != base:
        return "n/a"
    return f"{value / base:.2f}x"


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


# --- Chat fan-out ------------------------------------------------------------------


def seed_conversation(members: int):
    from django.contrib.auth import get_user_model

    from chat.models import Conversation, ConversationKind, MemberRole, Membership
    from trading.services import account_open

    User = get_user_model()
    users = [User.objects.create_user(f"member{n:04d}") for n in range(members + 1)]
    for user in users:
        account_open(user=user)
    sender = users[0]
    conversation = Conversation.objects.create(kind=ConversationKind.GROUP, title="fan-out", created_by=sender)
    Membership.objects.bulk_create(
        Membership(conversation=conversation, user=user, role=MemberRole.OWNER if user == sender else MemberRole.MEMBER)
        for user in users
    )
    cookies = harness.session_cookies(users)
    harness.close_db()
    return conversation.pk, cookies[0], cookies[1:]


def chat_section(stack: harness.Stack, args) -> dict:
    conversation_id, sender_cookie, cookies = seed_conversation(args.members)
    base = {"mode": "fanout", "rate": args.rate, "seconds": args.chat_seconds, "conversation_id": conversation_id}
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
            figures[name] = repeat(args.runs, lambda: harness.run_loadgen(config))
        finally:
            server.stop()

    measure("relay", harness.start_relay(), "relay", "/", with_cookies=False)
    measure("stockchat", harness.start_daphne(stack.env), "stockchat", "/ws/", with_cookies=True)
    measure("tutorial", harness.start_daphne(stack.env, "bench.asgi:application"), "tutorial", "/tutorial/", True)
    return figures


def chat_report(figures: dict, args) -> list[str]:
    relay, ours, tutorial = figures["relay"], figures["stockchat"], figures["tutorial"]
    ok = ours["p99_ms"] <= 2 * relay["p99_ms"] and ours["delivered_pct"] == 100.0 and ours["gaps"] == 0
    lines = [
        "## Chat fan-out",
        "",
        f"{args.members} members in one conversation, each with a socket; one more socket sends "
        f"{args.rate} messages/s for {args.chat_seconds:g} s (sequence number and send time in the body, "
        f"10 warm-up messages left out). Latency is from send to each member's receipt. "
        f"Median of {ours['runs']} runs.",
        "",
        "| design | p50 ms | p99 ms | p99 vs relay | delivered | gaps |",
        "|---|---|---|---|---|---|",
    ]
    for label, row in (
        ("bare `websockets` relay (baseline)", relay),
        ("stockchat: daphne, `/ws/`, Redis pub/sub layer, per-process hub", ours),
        ("Channels tutorial: consumer `group_add` + `group_send`, RedisChannelLayer", tutorial),
    ):
        lines.append(
            f"| {label} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {ratio(row['p99_ms'], relay['p99_ms'])} "
            f"| {row['delivered_pct']:.2f}% | {row['gaps']:g} |"
        )
    lines += [
        "",
        f"Target: p99 ≤ 2x baseline, 100% delivered, no gaps: {verdict(ok)} "
        f"(p99 {ratio(ours['p99_ms'], relay['p99_ms'])}).",
        "",
    ]
    return lines


# --- Report ------------------------------------------------------------------------


def versions() -> str:
    from importlib.metadata import version

    names = ["Django", "channels", "channels-redis", "daphne", "redis", "psycopg", "websockets", "djangorestframework"]
    parts = [f"Python {platform.python_version()}"] + [f"{name} {version(name)}" for name in names]
    pg = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()
    redis_version = next((p.split("=")[1] for p in pg if p.startswith("v=")), "?")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres_version = cursor.fetchone()[0]
    harness.close_db()
    return ", ".join([*parts, f"PostgreSQL {postgres_version}", f"Redis {redis_version}"])


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return f"{model}, {os.cpu_count()} cores, {mem_kib / 1024 / 1024:.1f} GiB RAM, {platform.platform()}"


SECTIONS = {"chat": (chat_section, chat_report)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=list(SECTIONS), help="run only these sections")
    parser.add_argument("--quick", action="store_true", help="short runs, one of each (not for the report)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="chat messages per second")
    parser.add_argument("--chat-seconds", type=float, default=15.0)
    parser.add_argument("--output", type=Path, default=RESULTS / "REPORT.md")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.chat_seconds = 1, 4.0
    started = time.monotonic()
    stack = harness.Stack()
    results: dict = {}
    body: list[str] = []
    try:
        about = versions()
        for name in args.only or list(SECTIONS):
            measure, report = SECTIONS[name]
            print(f"== {name}", flush=True)
            section_started = time.monotonic()
            results[name] = measure(stack, args)
            body += report(results[name], args)
            print("\n".join(report(results[name], args)), flush=True)
            print(f"({time.monotonic() - section_started:.0f} s)", flush=True)
    finally:
        stack.stop()
    head = [
        "# stockchat benchmarks",
        "",
        f"Generated by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {time.monotonic() - started:.0f} s. "
        "Every figure is a ratio against a baseline measured in the same run on the same machine: "
        "absolute times on a shared machine are noise, ratios much less so.",
        "",
        f"- Machine: {machine()}.",
        f"- Versions: {about}.",
        f"- Settings: servers pinned to core {harness.SERVER_CORE}, load generators to core {harness.CLIENT_CORE} "
        f"({'taskset' if harness.TASKSET else 'not pinned: one core'}); everything on loopback; one daphne process; "
        "`DJANGO_DEBUG=false`; PostgreSQL and Redis throwaway servers with default settings; per-user chat and "
        "order rate limits raised out of the way (`STOCKCHAT_CHAT_SENDS_PER_MINUTE`, `STOCKCHAT_ORDER_RATE`).",
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(head + body))
    (args.output.parent / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
