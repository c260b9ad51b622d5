"""Idle sockets: memory and CPU per open, quiet socket, against a bare relay."""

from __future__ import annotations

from bench import harness
from bench.common import (
    bench_users,
    judged_server,
    ratio,
    repeat,
    server_label,
    verdict,
)

# Issue 18's target: what a socket may cost while nothing happens on it.
IDLE_CPU_TARGET_US = 1.0


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
        return row["cpu_us_per_socket_second"] <= max(IDLE_CPU_TARGET_US, 2 * relay["cpu_us_per_socket_second"])

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
            "so there is no ratio."
        )
    lines += [
        "",
        f"Target: memory at most 2x the baseline, CPU at most {IDLE_CPU_TARGET_US:g} µs per socket·s: "
        f"{verdict(met(ours))} for {judged} (memory "
        f"{verdict(memory_met(ours))}, CPU {verdict(cpu_met(ours))}){others}.{cpu_note}",
        "",
    ]
    return lines
