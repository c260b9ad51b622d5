"""What one rate-limit check costs on Redis: the old counters against ``core.ratelimit.hit``.

Starts a throwaway redis-server, points Django's cache at it (as ``REDIS_URL`` does) and makes
``--hits`` checks on one key with each limiter, in alternating rounds so that the ratios come
from one run on the same machine state:

- ``DRF throttle (old)``: ``rest_framework.throttling.ScopedRateThrottle``, the order throttle
  before ``core.ratelimit``: reads the key's request history (a pickled list of timestamps,
  up to the limit long), appends, writes it back;
- ``add + incr (old)``: the sign-in counter before ``core.ratelimit`` (``cache.add``, then
  Django's ``incr``, which is ``EXISTS`` + ``INCR``);
- ``core.ratelimit.hit``: one ``EVALSHA``.

Per check: commands sent to Redis (round trips, counted on the client's connection), wall
time and the client process's CPU time. The limit is ``--limit`` per minute (600: the order
throttle's default) and the hits stay under it, so every check is allowed and the DRF history
grows to its full length, as for a client trading near its limit.

    .venv/bin/python bench/ratelimit_cost.py --hits 600 --rounds 5

Prints a Markdown table and, last, one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testsupport.servers import RedisServer  # noqa: E402


def setup_django(redis_url: str, limit: int) -> None:
    os.environ["REDIS_URL"] = redis_url
    os.environ["STOCKCHAT_MARKET_FEED"] = "off"
    os.environ["STOCKCHAT_ORDER_RATE"] = f"{limit}/minute"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "stockchat.settings"
    import django

    django.setup()


def limiters(limit: int) -> dict[str, Callable[[str], bool]]:
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    from core import ratelimit

    def drf(key: str) -> bool:
        throttle = ScopedRateThrottle()
        request = SimpleNamespace(user=SimpleNamespace(pk=key, is_authenticated=True), META={})
        return throttle.allow_request(request, SimpleNamespace(throttle_scope="trading-orders"))

    def add_incr(key: str) -> bool:
        # accounts/ratelimit.py's _count() before core.ratelimit.
        if not cache.add(key, 1, 60):
            try:
                return cache.incr(key) <= limit
            except ValueError:
                cache.add(key, 1, 60)
        return True

    def hit(key: str) -> bool:
        return ratelimit.hit("bench", key, limit=limit, window=60).allowed

    return {"DRF throttle (old)": drf, "add + incr (old)": add_incr, "core.ratelimit.hit": hit}


def measure(check: Callable[[str], bool], key: str, hits: int, sent: list[int]) -> dict[str, float]:
    sent[0] = 0
    wall, cpu = time.perf_counter(), time.process_time()
    allowed = sum(check(key) for _ in range(hits))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if allowed != hits:
        raise SystemExit(f"{allowed} of {hits} allowed: raise --limit above --hits")
    return {"commands": sent[0] / hits, "wall_us": wall / hits * 1e6, "cpu_us": cpu / hits * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=600, help="checks per limiter per round (default 600)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--limit", type=int, default=600, help="the limit per minute (default 600)")
    args = parser.parse_args()

    server = RedisServer().start()
    try:
        setup_django(server.url, args.limit)
        import redis

        sent = [0]
        original = redis.connection.Connection.send_packed_command

        def counting(self, command, check_health=True):
            sent[0] += 1
            return original(self, command, check_health)

        redis.connection.Connection.send_packed_command = counting
        checks = limiters(args.limit)
        for number, check in enumerate(checks.values()):  # warm up: connections, the script on the server
            check(f"warm-{number}")
        results: dict[str, list[dict[str, float]]] = {name: [] for name in checks}
        for round_ in range(args.rounds):
            for number, (name, check) in enumerate(checks.items()):
                results[name].append(measure(check, f"bench-{number}-{round_}", args.hits, sent))
    finally:
        server.stop()

    new = "core.ratelimit.hit"
    summary = {
        name: {field: statistics.median(run[field] for run in runs) for field in ("commands", "wall_us", "cpu_us")}
        for name, runs in results.items()
    }
    print(f"{args.hits} checks on one key per round, {args.rounds} rounds, medians; limit {args.limit}/minute\n")
    print("| limiter | Redis commands per check | wall µs per check | client CPU µs per check | wall vs hit |")
    print("|---|---|---|---|---|")
    for name, row in summary.items():
        ratio = row["wall_us"] / summary[new]["wall_us"]
        print(f"| {name} | {row['commands']:.2f} | {row['wall_us']:.0f} | {row['cpu_us']:.0f} | {ratio:.2f}x |")
    print(json.dumps({"hits": args.hits, "rounds": args.rounds, "limit": args.limit, "per_check": summary}))


if __name__ == "__main__":
    main()
