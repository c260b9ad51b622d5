"""Every stockchat benchmark in one go, each figure against a baseline measured in
the same run; writes ``bench/results/REPORT.md`` (and ``results.json``).

    .venv/bin/python bench/run.py                 # what `make bench` runs
    .venv/bin/python bench/run.py --only chat     # one section: chat, prices, orders, api, idle, queries
    .venv/bin/python bench/run.py --quick         # shorter runs, one run each (a smoke check)

Starts a throwaway PostgreSQL and Redis, seeds them, and runs each server under
test (daphne, uvicorn, the bare relay, the feed worker) in its own process, pinned to
another core than the load generators (bench/loadgen.py). Every server-side figure is
measured under each web server (``--servers``); targets are judged for the image's default
server (docker/entrypoint.sh), and the other server's figures are shown against the same baselines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

RESULTS = harness.ROOT / "bench" / "results"
SERVERS = ("uvicorn", "daphne")


def image_default_server() -> str:
    """The web server the Docker image runs when STOCKCHAT_WEB_SERVER is unset: the report judges that one."""
    entrypoint = (harness.ROOT / "docker" / "entrypoint.sh").read_text()
    return re.search(r"STOCKCHAT_WEB_SERVER:-(\w+)", entrypoint).group(1)


DEFAULT_SERVER = image_default_server()


def judged_server(args) -> str:
    """The server whose figures the targets are judged on: the default one when it was measured."""
    return DEFAULT_SERVER if DEFAULT_SERVER in args.servers else args.servers[0]


def server_label(name: str, args) -> str:
    return f"{name} (judged)" if name == judged_server(args) else name


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


_USERS: list = []
_COOKIES: list[str] = []


def bench_users(count: int) -> tuple[list, list[str]]:
    """``count`` signed-in users with accounts (made once, shared by the sections)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    while len(_USERS) < count:
        user = User.objects.create_user(f"member{len(_USERS):04d}")  # opens the trading account
        _USERS.append(user)
        _COOKIES.extend(harness.session_cookies([user]))
    harness.close_db()
    return _USERS[:count], _COOKIES[:count]


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
        return row["p99_ms"] <= 2 * relay["p99_ms"] and row["delivered_pct"] == 100.0 and row["gaps"] == 0

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
        f"Target: p99 ≤ 2x baseline, 100% delivered, no gaps: {verdict(met(ours))} for {judged} "
        f"(p99 {ratio(ours['p99_ms'], relay['p99_ms'])}){others_note(figures, args, met, 'p99_ms', relay['p99_ms'])}.",
        "",
    ]
    return lines


def others_note(figures: dict, args, met, key: str, base: float) -> str:
    """The target's outcome for the servers that are not judged, as a note."""
    notes = [
        f"{server} would have {'met' if met(figures[server]) else 'missed'} it ({ratio(figures[server][key], base)})"
        for server in args.servers
        if server != judged_server(args)
    ]
    return "; " + "; ".join(notes) if notes else ""


# --- Price fan-out -----------------------------------------------------------------


def prices_section(stack: harness.Stack, args) -> dict:
    _, cookies = bench_users(min(args.subscribers, 200))
    rate = 1 / args.tick_interval
    base = {
        "mode": "prices",
        "count": args.subscribers,
        "symbol": "ACME",
        "seconds": args.price_seconds,
        "windows": args.runs,
    }
    figures = {}
    relay = harness.start_relay()
    try:
        config = {
            **base,
            "protocol": "relay",
            "url": f"ws://127.0.0.1:{relay.port}/",
            "origin": "http://x",
            "rate": rate,
        }
        config["cookies"] = []
        figures["relay"] = median_of(harness.run_loadgen(config)["windows"])
    finally:
        relay.stop()
    for server_name in args.servers:
        server = harness.start_server(server_name, stack.env)
        feed = harness.start_feed_worker(stack.env, args.tick_interval)
        try:
            config = {
                **base,
                "protocol": "stockchat",
                "url": f"ws://127.0.0.1:{server.port}/ws/",
                "origin": f"http://127.0.0.1:{server.port}",
                "cookies": cookies,
            }
            figures[server_name] = median_of(harness.run_loadgen(config)["windows"])
            # The same ticks through GraphQL's quotes subscription, on the same server and feed.
            graphql = {**config, "protocol": "graphql", "url": f"ws://127.0.0.1:{server.port}/graphql/"}
            figures[f"{server_name} graphql"] = median_of(harness.run_loadgen(graphql)["windows"])
        finally:
            feed.terminate()
            feed.wait(15)
            server.stop()
    figures["ticks_per_s"] = rate
    return figures


def prices_report(figures: dict, args) -> list[str]:
    relay = figures["relay"]
    judged = judged_server(args)
    ours = figures[judged]
    expected = figures["ticks_per_s"] * args.subscribers

    def met(row: dict) -> bool:
        fast_enough = row["deliveries_per_s"] >= 0.5 * relay["deliveries_per_s"]
        return fast_enough and row["p99_age_ms"] <= 3 * relay["p99_age_ms"]

    lines = [
        "## Price fan-out",
        "",
        f"{args.subscribers} sockets follow one symbol (ACME); {figures['ticks_per_s']:g} ticks/s of it "
        f"({expected:,.0f} deliveries/s offered) for {args.price_seconds:g} s after a 3 s warm-up. stockchat: ticks "
        "from `manage.py run_market_feed` (which writes every stock's quote to PostgreSQL, then publishes) through "
        "Redis and the web server; tick age is receive time minus the quote's own time (`at`, taken as the tick "
        "starts). "
        f"Baseline: one client publishes to the bare relay at the same rate. Median of {ours['runs']} runs, one after "
        "the other on the same sockets.",
        "",
        "| design | deliveries/s | vs relay | p50 tick age ms | p99 tick age ms | p99 vs relay |",
        "|---|---|---|---|---|---|",
    ]
    rows = [("bare `websockets` relay (baseline)", relay)]
    for server in args.servers:
        rows.append((f"stockchat: feed worker, Redis, {server_label(server, args)}", figures[server]))
        if f"{server} graphql" in figures:
            rows.append(
                ("stockchat: the same, GraphQL `quotes` subscription at `/graphql/`", figures[f"{server} graphql"])
            )
    for label, row in rows:
        lines.append(
            f"| {label} | {row['deliveries_per_s']:,.0f} | {ratio(row['deliveries_per_s'], relay['deliveries_per_s'])} "
            f"| {row['p50_age_ms']:.1f} | {row['p99_age_ms']:.1f} | {ratio(row['p99_age_ms'], relay['p99_age_ms'])} |"
        )
    lines += [
        "",
        f"Target: at least 0.5x the baseline's deliveries/s and p99 at most 3x: {verdict(met(ours))} for {judged} "
        f"(p99 {ratio(ours['p99_age_ms'], relay['p99_age_ms'])})"
        f"{others_note(figures, args, met, 'p99_age_ms', relay['p99_age_ms'])}.",
        "",
    ]
    return lines


# --- Orders/s ----------------------------------------------------------------------


def api_tokens(users) -> list[str]:
    from accounts.services import api_token_create

    tokens = [api_token_create(user=user, name="bench")[1] for user in users]
    harness.close_db()
    return tokens


def order_requests(tokens: list[str]) -> list[dict]:
    # A buy limit far below the market rests as an open order: the account is
    # locked, cash reserved and the order inserted, as in the SQL baseline.
    body = json.dumps({"symbol": "ACME", "side": "buy", "type": "limit", "quantity": 1, "limit_price": "1.00"})
    return [
        {"method": "POST", "path": "/api/v1/orders", "headers": {"Authorization": f"Bearer {token}"}, "body": body}
        for token in tokens
    ]


def books_violations() -> int:
    from trading.books import books_violations

    count = len(books_violations())
    harness.close_db()
    return count


def web_configurations(args) -> list[tuple[str, int]]:
    """(server, processes) pairs the orders and API figures are measured with: each server with one
    process, then uvicorn with ``--web-processes`` workers when that is more than one."""
    configurations = [(server, 1) for server in args.servers]
    if args.web_processes > 1:
        configurations.append(("uvicorn", args.web_processes))
    return configurations


def configuration_key(server: str, processes: int) -> str:
    return server if processes == 1 else f"{server}x{processes}"


def configuration_label(server: str, processes: int, args) -> str:
    if processes == 1:
        return server_label(server, args)
    return f"{server}, {processes} processes"


def http_figures(server: harness.Server, requests: list[dict], args) -> dict:
    config = {
        "mode": "http",
        "host": "127.0.0.1",
        "port": server.port,
        "clients": args.clients,
        "seconds": args.http_seconds,
        "requests": requests,
    }
    return repeat(args.http_runs, lambda: harness.run_loadgen(config))


def orders_section(stack: harness.Stack, args) -> dict:
    users, _ = bench_users(args.accounts)
    tokens = api_tokens(users)
    figures = {}
    for label, accounts in (("hot", 1), ("spread", args.accounts)):
        raw = {"url": stack.postgres.url, "clients": args.clients, "accounts": accounts, "seconds": args.http_seconds}
        figures[f"{label}_raw"] = repeat(args.http_runs, lambda raw=raw: harness.run_script("raw_orders.py", raw))
        figures[f"{label}_api"] = {}
        for server_name, processes in web_configurations(args):
            # Several processes are shown for the spread load only: on one hot account they queue on its lock.
            if processes > 1 and label == "hot":
                continue
            server = harness.start_server(server_name, stack.env, processes=processes)
            try:
                row = http_figures(server, order_requests(tokens[:accounts]), args)
            finally:
                server.stop()
            figures[f"{label}_api"][configuration_key(server_name, processes)] = row
    figures["violations"] = books_violations()
    return figures


def orders_report(figures: dict, args) -> list[str]:
    lines = [
        "## Orders/s",
        "",
        f"{args.clients} concurrent clients for {args.http_seconds:g} s after a 2 s warm-up. stockchat: `POST "
        "/api/v1/orders` (a buy limit far below the market, which rests: account row locked, cash reserved, order "
        "inserted, events sent on commit) with personal API tokens, through each web server. Baseline: raw "
        f"psycopg, {args.clients} threads running the same locking SQL (`SELECT ... FOR UPDATE` on the account, "
        "insert the order, update the reservation) on tables of its own. `check_books` runs after all of it. "
        f"Median of {figures['hot_raw']['runs']} runs.{processes_note(args)}",
        "",
        "| accounts | server | raw psycopg orders/s | API orders/s | vs baseline | API p50 ms | API p99 ms "
        "| statuses |",
        "|---|---|---|---|---|---|---|---|",
    ]
    judged = judged_server(args)
    outcome = {}
    for label, accounts in (("hot", "1 (hot)"), ("spread", f"{args.accounts:,}")):
        raw = figures[f"{label}_raw"]
        for server, processes in web_configurations(args):
            api = figures[f"{label}_api"].get(configuration_key(server, processes))
            if api is None:
                continue
            if processes == 1:
                met = api["ok_per_s"] >= 0.4 * raw["orders_per_s"]
                outcome[server] = outcome.get(server, True) and met
            lines.append(
                f"| {accounts} | {configuration_label(server, processes, args)} | {raw['orders_per_s']:,.0f} "
                f"| {api['ok_per_s']:,.0f} | {ratio(api['ok_per_s'], raw['orders_per_s'])} | {api['p50_ms']:.1f} "
                f"| {api['p99_ms']:.1f} | {api['statuses']} |"
            )
    ok = figures["violations"] == 0 and outcome[judged]
    others = "".join(
        f"; {server} would have {'met' if met and figures['violations'] == 0 else 'missed'} it"
        for server, met in outcome.items()
        if server != judged
    )
    lines += [
        "",
        f"`check_books` after the run: {figures['violations']} violations.",
        "",
        f"Target: at least 0.4x the baseline, 0 violations: {verdict(ok)} for {judged}{others}.",
        "",
    ]
    return lines


def processes_note(args) -> str:
    if args.web_processes <= 1:
        return ""
    return (
        f" The row with {args.web_processes} processes is uvicorn `--workers {args.web_processes}` (one listening "
        "socket shared by the workers), all pinned to the one server core: it shows what several processes give "
        "a server that waits on the database rather than on its CPU. daphne has no such option, and Twisted's "
        "asyncio reactor cannot adopt a shared listening socket (`daphne --fd`), so daphne runs one process."
    )


# --- API requests/s ----------------------------------------------------------------


def api_section(stack: harness.Stack, args) -> dict:
    users, _ = bench_users(1)
    token = api_tokens(users)[0]
    seed_positions(users[0])
    auth = {"Authorization": f"Bearer {token}"}
    endpoints = {
        "constant": "/bench/constant",
        "portfolio": "/api/v1/account/portfolio/history",
        "bars": "/api/v1/assets/ACME/bars",
    }
    figures = {}
    for server_name, processes in web_configurations(args):
        server = harness.start_server(server_name, stack.env, "bench.asgi:application", processes)
        rows = {}
        try:
            for name, path in endpoints.items():
                rows[name] = http_figures(server, [{"path": path, "headers": auth}], args)
        finally:
            server.stop()
        figures[configuration_key(server_name, processes)] = rows
    return figures


def seed_positions(user) -> None:
    """A few filled orders, so the portfolio history has positions to value."""
    from trading.services import order_place

    for symbol in ("ACME", "BRCK", "CLDW"):
        order_place(user=user, symbol=symbol, side="buy", quantity=10)
    harness.close_db()


def api_report(figures: dict, args) -> list[str]:
    judged = judged_server(args)
    base = figures[judged]["constant"]
    lines = [
        "## API requests/s",
        "",
        f"{args.clients} keep-alive clients for {args.http_seconds:g} s after a 2 s warm-up, each request "
        "authenticated with a personal API token. The three URLs are served by the same server "
        "(`bench/asgi.py`: the app plus the baseline view, a plain Django view returning a constant JSON object, "
        f"through the app's whole middleware stack), under each web server. Every row is against one baseline: "
        f"the constant view on {judged} with one process. Median of {base['runs']} runs.{processes_note(args)}",
        "",
        "| endpoint | server | requests/s (2xx) | vs baseline | p50 ms | p99 ms | statuses |",
        "|---|---|---|---|---|---|---|",
    ]
    outcome = {}
    for name, path in (
        ("constant", "`/bench/constant` (baseline)"),
        ("portfolio", "`/api/v1/account/portfolio/history`"),
        ("bars", "`/api/v1/assets/ACME/bars`"),
    ):
        for server, processes in web_configurations(args):
            row = figures[configuration_key(server, processes)][name]
            if name != "constant" and processes == 1:
                outcome[server] = outcome.get(server, True) and row["ok_per_s"] >= 0.6 * base["ok_per_s"]
            lines.append(
                f"| {path} | {configuration_label(server, processes, args)} | {row['ok_per_s']:,.0f} "
                f"| {ratio(row['ok_per_s'], base['ok_per_s'])} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} "
                f"| {row['statuses']} |"
            )
    others = "".join(
        f"; {server} would have {'met' if met else 'missed'} it" for server, met in outcome.items() if server != judged
    )
    lines += ["", f"Target: at least 0.6x the baseline: {verdict(outcome[judged])} for {judged}{others}.", ""]
    return lines


# --- Idle sockets ------------------------------------------------------------------


def idle_section(stack: harness.Stack, args) -> dict:
    _, cookies = bench_users(200)
    figures = {}
    base = {"mode": "idle", "count": args.idle_sockets, "concurrency": 50}

    def measure(name: str, server: harness.Server, config: dict) -> None:
        try:
            figures[name] = repeat(args.idle_runs, lambda: harness.hold_idle(config, server, args.idle_seconds))
        finally:
            server.stop()

    relay = harness.start_relay()
    measure(
        "relay",
        relay,
        {**base, "protocol": "relay", "url": f"ws://127.0.0.1:{relay.port}/", "origin": "http://x", "cookies": []},
    )
    for server_name in args.servers:
        server = harness.start_server(server_name, stack.env)
        url = f"ws://127.0.0.1:{server.port}/ws/"
        origin = f"http://127.0.0.1:{server.port}"
        config = {**base, "protocol": "stockchat", "url": url, "origin": origin, "cookies": cookies}
        measure(server_name, server, config)
    return figures


def idle_report(figures: dict, args) -> list[str]:
    relay = figures["relay"]
    judged = judged_server(args)
    ours = figures[judged]

    def memory_met(row: dict) -> bool:
        return row["kib_per_socket"] <= 2 * relay["kib_per_socket"]

    def cpu_met(row: dict) -> bool:
        return row["cpu_us_per_socket_second"] <= 2 * max(relay["cpu_us_per_socket_second"], 0.01)

    def met(row: dict) -> bool:
        return memory_met(row) and cpu_met(row) and row["alive_at_end"] == row["sockets"]

    lines = [
        "## Idle sockets",
        "",
        f"{args.idle_sockets:,} sockets opened 50 at a time (stockchat: signed in, spread over 200 users, each "
        f"waits for `hello`), then left idle for {args.idle_seconds:g} s. Memory is the server's resident set "
        "growth divided by the sockets; CPU is the server's CPU time during the idle window per socket and "
        f"second. Median of {ours['runs']} runs (one server process for all of them).",
        "",
        "| server | handshakes/s | vs relay | KiB per socket | vs relay | CPU µs per socket·s | vs relay "
        "| open at end |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = [("bare `websockets` relay (baseline)", relay)]
    rows += [(f"stockchat: {server_label(server, args)} `/ws/`", figures[server]) for server in args.servers]
    for label, row in rows:
        lines.append(
            f"| {label} | {row['handshakes_per_s']:,.0f} | {ratio(row['handshakes_per_s'], relay['handshakes_per_s'])} "
            f"| {row['kib_per_socket']:.1f} | {ratio(row['kib_per_socket'], relay['kib_per_socket'])} "
            f"| {row['cpu_us_per_socket_second']:.2f} "
            f"| {ratio(row['cpu_us_per_socket_second'], relay['cpu_us_per_socket_second'])} "
            f"| {row['alive_at_end']:,}/{row['sockets']:,} |"
        )
    others = "".join(
        f"; {server} would have {'met' if met(figures[server]) else 'missed'} it (memory "
        f"{'met' if memory_met(figures[server]) else 'missed'}, CPU {'met' if cpu_met(figures[server]) else 'missed'})"
        for server in args.servers
        if server != judged
    )
    cpu_note = ""
    if relay["cpu_us_per_socket_second"] == 0:
        cpu_note = (
            f" The relay used no measurable CPU while idle (under one 10 ms clock tick in {args.idle_seconds:g} s), "
            "so there is no ratio; any idle work counts as a miss."
        )
    lines += [
        "",
        f"Target: CPU and memory at most 2x the baseline: {verdict(met(ours))} for {judged} (memory "
        f"{verdict(memory_met(ours))}, CPU {verdict(cpu_met(ours))}){others}.{cpu_note}",
        "",
    ]
    return lines


# --- Queries per page --------------------------------------------------------------

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


# --- Price alerts: the cost of a tick -------------------------------------------------

ALERT_STOCKS = 32


def _alert_tick_ms(stocks, ticks: int, start_minute: int) -> float:
    """Median wall time of ``quotes_record`` over ``ticks`` ticks of every stock (prices wiggle by a cent)."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from trading.services import PriceTick, quotes_record

    base = datetime(2030, 1, 2, 15, 0, tzinfo=UTC)
    times = []
    for n in range(ticks):
        price = Decimal("100.00") + Decimal(n % 2) / 100
        batch = [PriceTick(stock=stock, price=price) for stock in stocks]
        started = time.perf_counter()
        quotes_record(ticks=batch, at=base + timedelta(seconds=start_minute * 60 + n))
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def alerts_section(stack: harness.Stack, args) -> dict:
    from decimal import Decimal

    from trading.models import Company, PriceAlert, Stock

    users, _ = bench_users(100)
    stocks = []
    for n in range(ALERT_STOCKS):
        company = Company.objects.create(name=f"Alert bench {n}")
        stocks.append(Stock.objects.create(symbol=f"ALB{n:02d}", company=company))
    ticks = 10 if args.quick else args.alert_ticks
    figures = {"none": _alert_tick_ms(stocks, ticks, 0)}
    # 10,000 armed alerts that no tick meets: the price of evaluating them every tick.
    PriceAlert.objects.bulk_create(
        PriceAlert(
            user=users[n % len(users)],
            stock=stocks[n % ALERT_STOCKS],
            condition=("above", "below", "day_move")[n % 3],
            threshold=(Decimal("200") + n % 50, Decimal("50") - n % 40, Decimal("50"))[n % 3],
        )
        for n in range(args.alerts)
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    figures["armed"] = _alert_tick_ms(stocks, ticks, 10)
    harness.close_db()
    return {**figures, "alerts": args.alerts, "stocks": ALERT_STOCKS, "ticks": ticks}


def alerts_report(figures: dict, args) -> list[str]:
    none, armed = figures["none"], figures["armed"]
    return [
        "## Price alerts: the cost of a tick",
        "",
        f"`quotes_record` of {figures['stocks']} stocks, median of {figures['ticks']} ticks, in-process on "
        f"PostgreSQL: with no alerts, then with {figures['alerts']:,} armed alerts (above, below and day-move "
        "thresholds the ticks never meet, spread over 100 users), evaluated in the tick's one alert query.",
        "",
        "| tick | median ms | vs. no alerts |",
        "|---|---|---|",
        f"| no alerts | {none:.1f} | 1.0x |",
        f"| {figures['alerts']:,} armed alerts | {armed:.1f} | {ratio(armed, none)} |",
        "",
        f"Target: at most 2x the tick without alerts: {verdict(armed <= 2 * none)}.",
        "",
    ]


# --- Report ------------------------------------------------------------------------


def versions() -> str:
    from importlib.metadata import version

    names = [
        "Django",
        "channels",
        "channels-redis",
        "daphne",
        "uvicorn",
        "uvloop",
        "httptools",
        "redis",
        "psycopg",
        "websockets",
        "djangorestframework",
    ]
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


SECTIONS = {
    "chat": (chat_section, chat_report),
    "prices": (prices_section, prices_report),
    "orders": (orders_section, orders_report),
    "api": (api_section, api_report),
    "idle": (idle_section, idle_report),
    "queries": (queries_section, queries_report),
    "alerts": (alerts_section, alerts_report),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=list(SECTIONS), help="run only these sections")
    parser.add_argument("--quick", action="store_true", help="short runs, one of each (not for the report)")
    parser.add_argument(
        "--servers", nargs="+", choices=SERVERS, default=list(SERVERS), help="web servers to measure the app under"
    )
    parser.add_argument("--runs", type=int, default=3, help="windows per socket figure; the median is reported")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="chat messages per second")
    parser.add_argument("--chat-seconds", type=float, default=10.0)
    parser.add_argument("--subscribers", type=int, default=1000, help="price subscribers")
    parser.add_argument("--tick-interval", type=float, default=0.2, help="seconds between the feed's ticks")
    parser.add_argument("--price-seconds", type=float, default=6.0)
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--accounts", type=int, default=1000, help="accounts the spread order load uses")
    parser.add_argument("--http-seconds", type=float, default=4.0)
    parser.add_argument("--http-runs", type=int, default=3, help="runs per orders and API figure; the median")
    parser.add_argument(
        "--web-processes",
        type=int,
        default=1,
        help="also measure orders and API with uvicorn running this many processes (when more than 1)",
    )
    parser.add_argument("--idle-sockets", type=int, default=2000)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--idle-runs", type=int, default=1, help="runs of the idle-socket figure")
    parser.add_argument("--alerts", type=int, default=10_000, help="armed price alerts for the tick-cost figure")
    parser.add_argument("--alert-ticks", type=int, default=30, help="ticks timed with and without alerts")
    parser.add_argument("--output", type=Path, default=RESULTS / "REPORT.md")
    parser.add_argument(
        "--render", action="store_true", help="only write the report again from the last results.json (no measuring)"
    )
    args = parser.parse_args(argv)
    if args.web_processes < 1 or args.http_runs < 1:
        parser.error("--web-processes and --http-runs must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    if args.render:
        render(args, json.loads((args.output.parent / "results.json").read_text()))
        return
    if args.quick:
        args.runs, args.chat_seconds, args.price_seconds, args.http_seconds = 1, 4.0, 4.0, 3.0
        args.http_runs = 1
        args.idle_seconds = 3.0
    started = time.monotonic()
    load = os.getloadavg()[0]
    stack = harness.Stack()
    results: dict = {}
    try:
        results["_about"] = {"versions": versions(), "machine": machine(), "load": load}
        for name in args.only or list(SECTIONS):
            measure, report = SECTIONS[name]
            print(f"== {name}", flush=True)
            section_started = time.monotonic()
            results[name] = measure(stack, args)
            results[name]["_seconds"] = time.monotonic() - section_started
            print("\n".join(report(results[name], args)), flush=True)
    finally:
        stack.stop()
    results["_about"]["seconds"] = time.monotonic() - started
    results["_about"]["generated"] = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    results["_about"]["args"] = {k: " ".join(v) if isinstance(v, list) else str(v) for k, v in vars(args).items()}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    (args.output.parent / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    render(args, results)


def render(args, results: dict) -> None:
    about = results["_about"]
    # The rows to show are the ones that were measured.
    if "servers" in about["args"]:
        args.servers = about["args"]["servers"].split()
        args.web_processes = int(about["args"]["web_processes"])
    options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in about["args"].items() if k in OPTION_NAMES)
    head = [
        "# stockchat benchmarks",
        "",
        f"Generated by `make bench` on {about['generated']} in {about['seconds']:.0f} s. "
        "Every figure is a ratio against a baseline measured in the same run on the same machine: "
        "absolute times on a shared machine are noise, ratios much less so.",
        "",
        f"- Machine: {about['machine']}; load average {about['load']:.1f} when the run started "
        "(other work shares this machine).",
        f"- Versions: {about['versions']}.",
        f"- Settings: servers pinned to core {harness.SERVER_CORE}, load generators to core {harness.CLIENT_CORE} "
        f"({'taskset' if harness.TASKSET else 'not pinned: one core'}); PostgreSQL, Redis and the feed worker "
        "are not pinned; everything on loopback; one web server process (daphne, or uvicorn with the Docker "
        f"entrypoint's options `{' '.join(harness.UVICORN_OPTIONS)}`, uvloop and httptools) unless a row says "
        "otherwise; `DJANGO_DEBUG=false`; throwaway PostgreSQL "
        "(`fsync=off`, `synchronous_commit=off`) and Redis; per-user chat and order rate limits raised out of the "
        "way (`STOCKCHAT_CHAT_SENDS_PER_MINUTE`, `STOCKCHAT_ORDER_RATE`); no TLS (`DJANGO_SECURE_SSL_REDIRECT=false`).",
        f"- Options: `{options}`. Every figure is the median of three runs unless the options say otherwise; "
        "orders and API runs last `--http-seconds` (4 s by default) so that measuring both servers keeps "
        "`make bench` under about 15 minutes.",
        "",
    ]
    body: list[str] = []
    for name, (_, report) in SECTIONS.items():
        if name in results:
            body += report(results[name], args)
    notes = harness.ROOT / "bench" / "NOTES.md"
    if notes.exists():
        body += [notes.read_text()]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(head + body))
    print(f"wrote {args.output}")


OPTION_NAMES = {
    "servers",
    "web_processes",
    "http_runs",
    "runs",
    "members",
    "rate",
    "chat_seconds",
    "subscribers",
    "tick_interval",
    "price_seconds",
    "clients",
    "accounts",
    "http_seconds",
    "idle_sockets",
    "idle_seconds",
    "idle_runs",
    "alerts",
    "alert_ticks",
}


if __name__ == "__main__":
    main()
