"""Orders/s: the order API under each web server against raw psycopg running the same locking SQL."""

from __future__ import annotations

import json
from functools import partial

from bench import harness
from bench.common import (
    CPU_COLUMNS,
    api_tokens,
    bench_users,
    configuration_key,
    configuration_label,
    cpu_cells,
    http_figures,
    judged_server,
    phase_lines,
    processes_note,
    profiled,
    ratio,
    repeat,
    verdict,
    web_configurations,
)


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


# Issue 18's target: a full-stack Django request cannot come near raw SQL; a tenth of it can.
ORDERS_TARGET = 0.1


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
                requests = order_requests(tokens[:accounts])
                if label == "spread" and processes == 1 and server_name == judged_server(args):
                    row, figures["profile"] = profiled(
                        server, args, partial(http_figures, server, requests, args, stack)
                    )
                else:
                    row = http_figures(server, requests, args, stack)
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
        "CPU per order of the server, PostgreSQL and Redis from `/proc`; `1 client p50` is one client alone.",
        "",
        "| accounts | server | raw psycopg orders/s | API orders/s | vs baseline | API p50 ms | API p99 ms "
        f"| statuses | {CPU_COLUMNS}",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
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
                met = api["ok_per_s"] >= ORDERS_TARGET * raw["orders_per_s"]
                outcome[server] = outcome.get(server, True) and met
            lines.append(
                f"| {accounts} | {configuration_label(server, processes, args)} | {raw['orders_per_s']:,.0f} "
                f"| {api['ok_per_s']:,.0f} | {ratio(api['ok_per_s'], raw['orders_per_s'])} | {api['p50_ms']:.1f} "
                f"| {api['p99_ms']:.1f} | {api['statuses']} {cpu_cells(api)}"
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
        f"Target: at least {ORDERS_TARGET}x the baseline, 0 violations: {verdict(ok)} for {judged}{others}.",
    ]
    lines += phase_lines(
        f"Where {judged}'s samples went during the first spread run (py-spy, innermost matching frame):",
        figures.get("profile"),
    )
    lines.append("")
    return lines
