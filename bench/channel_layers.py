"""RedisChannelLayer against RedisPubSubChannelLayer for stockchat's price fan-out.

What is measured is the path a price tick takes in production: the feed worker
calls ``group_send`` for ``price.<SYMBOL>``; every web process follows that
group once through its ``FanoutHub``. The benchmark starts a throwaway Redis,
``--processes`` subscriber processes (each one hub following every symbol), and
one publisher that sends ``--rate`` ticks a second round-robin over the symbols
for ``--seconds``. Each tick carries its send time; subscribers report latency
percentiles and how many ticks arrived.

    .venv/bin/python bench/channel_layers.py --processes 4 --symbols 30 --rate 500 --seconds 10

Prints a Markdown table; ``--json FILE`` also writes the raw figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LAYERS = {
    "RedisChannelLayer": "channels_redis.core.RedisChannelLayer",
    "RedisPubSubChannelLayer": "channels_redis.pubsub.RedisPubSubChannelLayer",
}


def make_layer(kind: str, url: str):
    from channels_redis.core import RedisChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer

    if kind == "RedisChannelLayer":
        return RedisChannelLayer(hosts=[{"address": url, "socket_timeout": None}], capacity=100_000)
    return RedisPubSubChannelLayer(hosts=[{"address": url}])


class LatencyRecorder:
    def __init__(self) -> None:
        self.latencies: list[float] = []

    def deliver(self, text: str, conflate: str | None) -> None:
        sent = json.loads(text)["sent"]
        self.latencies.append(time.time() - sent)

    def control(self, command) -> None:
        pass


def subscriber(kind: str, url: str, symbols: int, ready, done, results) -> None:
    from core.realtime.hub import FanoutHub

    async def main() -> None:
        layer = make_layer(kind, url)
        hub = FanoutHub(layer)
        recorder = LatencyRecorder()
        for n in range(symbols):
            await hub.subscribe(f"price.S{n:03d}", recorder)
        ready.set()
        await asyncio.get_running_loop().run_in_executor(None, done.wait)
        # Let late ticks land: stop once nothing has arrived for a second (30 s at most).
        deadline = time.monotonic() + 30
        seen = -1
        while len(recorder.latencies) != seen and time.monotonic() < deadline:
            seen = len(recorder.latencies)
            await asyncio.sleep(1.0)
        results.put(recorder.latencies)
        await hub.close()

    asyncio.run(main())


def publish(kind: str, url: str, symbols: int, rate: int, seconds: float) -> int:
    from core.realtime.hub import hub_event

    async def main() -> int:
        layer = make_layer(kind, url)
        sent = 0
        start = time.perf_counter()
        total = int(rate * seconds)
        while sent < total:
            due = start + sent / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            group = f"price.S{sent % symbols:03d}"
            frame = {"type": "quote.updated", "v": 1, "quote": {"symbol": group[6:], "price": "101.25"}}
            frame["sent"] = time.time()
            await layer.group_send(group, hub_event(group, frame, conflate=group))
            sent += 1
        return sent

    return asyncio.run(main())


def run_one(kind: str, url: str, args) -> dict:
    ctx = mp.get_context("spawn")
    done = ctx.Event()
    results = ctx.Queue()
    readies = []
    procs = []
    for _ in range(args.processes):
        ready = ctx.Event()
        proc = ctx.Process(target=subscriber, args=(kind, url, args.symbols, ready, done, results))
        proc.start()
        readies.append(ready)
        procs.append(proc)
    for ready in readies:
        ready.wait(30)
    started = time.perf_counter()
    sent = publish(kind, url, args.symbols, args.rate, args.seconds)
    elapsed = time.perf_counter() - started
    done.set()
    latencies: list[float] = []
    for _ in procs:
        latencies.extend(results.get(timeout=60))
    for proc in procs:
        proc.join(30)
    latencies.sort()
    expected = sent * args.processes

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {
        "layer": kind,
        "sent": sent,
        "delivered": len(latencies),
        "delivered_pct": 100.0 * len(latencies) / expected if expected else 0.0,
        "publish_rate": sent / elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=4, help="subscriber (web) processes")
    parser.add_argument("--symbols", type=int, default=30)
    parser.add_argument("--rate", type=int, default=500, help="ticks per second from the publisher")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3, help="runs per layer; the median run is reported")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stockchat.settings")
    from testsupport.servers import RedisServer

    redis = RedisServer().start()
    try:
        rows = []
        for kind in LAYERS:
            runs = sorted((run_one(kind, redis.url, args) for _ in range(args.runs)), key=lambda r: r["p99_ms"])
            rows.append(runs[len(runs) // 2])
    finally:
        redis.stop()

    print(
        f"\n{args.processes} subscriber processes x {args.symbols} symbols, {args.rate} ticks/s for "
        f"{args.seconds:g} s, median of {args.runs} runs\n"
    )
    print("| layer | delivered | publish rate/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['layer']} | {row['delivered_pct']:.1f}% | {row['publish_rate']:.0f} | "
            f"{row['p50_ms']:.2f} | {row['p99_ms']:.2f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
