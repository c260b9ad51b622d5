"""API requests/s: read endpoints against a constant view on the same server, and that view under gunicorn (WSGI)."""

from __future__ import annotations

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
    verdict,
    web_configurations,
)

WSGI = "gunicorn"
# Targets of issue 18: reads at least 0.3x the constant view; the constant view under the default
# server at least 0.9x the same view under gunicorn.
READ_TARGET = 0.3
WSGI_TARGET = 0.9


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
                requests = [{"path": path, "headers": auth}]
                if name == "portfolio" and processes == 1 and server_name == judged_server(args):
                    rows[name], figures["profile"] = profiled(
                        server, args, partial(http_figures, server, requests, args, stack)
                    )
                else:
                    rows[name] = http_figures(server, requests, args, stack)
        finally:
            server.stop()
        figures[configuration_key(server_name, processes)] = rows
    # The constant view under a WSGI server: no event loop, no thread hop.
    try:
        server = harness.start_gunicorn(stack.env)
    except FileNotFoundError:
        return figures
    try:
        figures[WSGI] = {
            "constant": http_figures(server, [{"path": endpoints["constant"], "headers": auth}], args, stack)
        }
    finally:
        server.stop()
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
        f"the constant view on {judged} with one process. Median of {base['runs']} runs.{processes_note(args)} "
        "The last row is the constant view under gunicorn (`bench/wsgi.py`: one process, 8 threads, keep-alive), "
        "the same Django with no event loop and no thread hop. CPU is the user and system time each answered "
        "request cost the server's processes, PostgreSQL's (all backends) and Redis, read from `/proc` over the "
        "run; `1 client p50` is one client alone, with no queueing.",
        "",
        f"| endpoint | server | requests/s (2xx) | vs baseline | p50 ms | p99 ms | statuses | {CPU_COLUMNS}",
        "|---|---|---|---|---|---|---|---|---|---|---|",
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
                outcome[server] = outcome.get(server, True) and row["ok_per_s"] >= READ_TARGET * base["ok_per_s"]
            lines.append(
                f"| {path} | {configuration_label(server, processes, args)} | {row['ok_per_s']:,.0f} "
                f"| {ratio(row['ok_per_s'], base['ok_per_s'])} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} "
                f"| {row['statuses']} {cpu_cells(row)}"
            )
    wsgi = figures.get(WSGI, {}).get("constant")
    if wsgi is not None:
        lines.append(
            f"| `/bench/constant` | gunicorn (WSGI) | {wsgi['ok_per_s']:,.0f} "
            f"| {ratio(wsgi['ok_per_s'], base['ok_per_s'])} "
            f"| {wsgi['p50_ms']:.1f} | {wsgi['p99_ms']:.1f} | {wsgi['statuses']} {cpu_cells(wsgi)}"
        )
    others = "".join(
        f"; {server} would have {'met' if met else 'missed'} it" for server, met in outcome.items() if server != judged
    )
    lines += [
        "",
        f"Target: portfolio and bars at least {READ_TARGET}x the baseline: {verdict(outcome[judged])} for "
        f"{judged}{others}.",
    ]
    if wsgi is not None:
        ok = base["ok_per_s"] >= WSGI_TARGET * wsgi["ok_per_s"]
        lines.append(
            f"Target: the constant view under {judged} at least {WSGI_TARGET}x the same view under gunicorn: "
            f"{verdict(ok)} ({ratio(base['ok_per_s'], wsgi['ok_per_s'])})."
        )
    lines += phase_lines(
        f"Where {judged}'s samples went during the first portfolio run (py-spy, innermost matching frame):",
        figures.get("profile"),
    )
    lines.append("")
    return lines
