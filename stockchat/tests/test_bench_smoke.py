"""The benchmark code imports and its baseline relay relays (no timings asserted here)."""

from __future__ import annotations

import importlib

import pytest

from bench import harness


@pytest.mark.parametrize(
    "module", ["bench.harness", "bench.loadgen", "bench.raw_orders", "bench.run", "bench.tutorial"]
)
def test_bench_modules_import(module):
    importlib.import_module(module)


def test_relay_delivers_every_message_in_order_to_every_client():
    relay = harness.start_relay()
    try:
        result = harness.run_loadgen(
            {
                "mode": "fanout",
                "protocol": "relay",
                "url": f"ws://127.0.0.1:{relay.port}/",
                "origin": "http://localhost",
                "cookies": [None] * 5,
                "rate": 50,
                "seconds": 0.4,
                "warmup": 2,
                "conversation_id": 0,
                "windows": 2,
            },
            timeout=120,
        )
    finally:
        relay.stop()
    assert len(result["windows"]) == 2
    result = result["windows"][1]
    assert result["sent"] == 20
    assert result["members"] == 5
    assert result["delivered_pct"] == 100.0
    assert result["gaps"] == 0


def test_percentile_picks_from_the_sorted_values():
    assert harness.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert harness.percentile([], 0.99) != harness.percentile([], 0.99)  # NaN when there is nothing
