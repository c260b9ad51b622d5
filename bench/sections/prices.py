"""Price fan-out: subscribers of one symbol, ticks from the feed worker through Redis, against a bare relay."""

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

# Issue 18's targets: every offered tick delivered (1.0x, less the relay's own jitter), p99 at most 2x.
PRICE_THROUGHPUT_TARGET = 0.98
PRICE_P99_TARGET = 2


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
        fast_enough = row["deliveries_per_s"] >= PRICE_THROUGHPUT_TARGET * relay["deliveries_per_s"]
        return fast_enough and row["p99_age_ms"] <= PRICE_P99_TARGET * relay["p99_age_ms"]

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
        f"Target: the baseline's deliveries/s (at least {PRICE_THROUGHPUT_TARGET}x) and p99 at most "
        f"{PRICE_P99_TARGET}x: {verdict(met(ours))} for {judged} "
        f"(p99 {ratio(ours['p99_age_ms'], relay['p99_age_ms'])})"
        f"{others_note(figures, args, met, 'p99_age_ms', relay['p99_age_ms'])}.",
        "",
    ]
    return lines
