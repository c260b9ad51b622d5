"""bench/ratelimit_cost.py runs and reports one round trip per check for core.ratelimit (no timings
asserted: those are measured, not tested)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_rate_limit_bench_counts_round_trips():
    result = subprocess.run(
        [sys.executable, "bench/ratelimit_cost.py", "--hits", "20", "--rounds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])["per_check"]
    assert figures["core.ratelimit.hit"]["commands"] == 1
    assert figures["DRF throttle (old)"]["commands"] == 2
