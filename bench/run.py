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
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.common import DEFAULT_SERVER, RESULTS, SERVERS, judged_server  # noqa: F401  (tests read them here)
from bench.sections.alerts import alerts_report, alerts_section
from bench.sections.api import api_report, api_section
from bench.sections.chat import chat_report, chat_section
from bench.sections.idle import idle_report, idle_section
from bench.sections.orders import orders_report, orders_section
from bench.sections.prices import prices_report, prices_section
from bench.sections.queries import queries_report, queries_section


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
    parser.add_argument(
        "--profile", action="store_true", help="sample the judged server with py-spy on the order and portfolio paths"
    )
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
