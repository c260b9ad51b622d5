"""Percent of a server's py-spy samples by phase of the request path (``make bench --profile``).

``Server.profile`` records collapsed stacks (``py-spy record --format raw``: one line per distinct
stack, frames from the root to the leaf separated by ``;``, then the sample count). Each stack is
given to the phase of its innermost frame that names one, so time spent inside the database driver
under a selector counts as the database driver, not the selector.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

# Checked against each frame, innermost first; the first phase that matches wins.
PHASES: list[tuple[str, tuple[str, ...]]] = [
    ("PostgreSQL driver and pool (psycopg)", ("psycopg", "psycopg_pool")),
    ("Redis client", ("redis/",)),
    # A worker thread waiting for its next request has only these frames: idle time py-spy kept.
    ("thread hand-off and idle workers (asgiref, executor)", ("asgiref/", "concurrent/futures", "threading.py")),
    ("token authentication", ("authentication.py",)),
    ("throttle and rate limits", ("throttling.py", "ratelimit")),
    ("stock lookup and visibility", ("selectors.py", "visibility.py")),
    ("order services", ("trading/services",)),
    ("serializers (DRF)", ("rest_framework/serializers.py", "rest_framework/fields.py", "serializers")),
    ("events and publishing", ("events.py", "realtime/publish")),
    ("Django ORM (query building)", ("django/db/",)),
    ("Django request handling and middleware", ("django/core/handlers", "middleware", "django/http")),
    ("DRF views and rendering", ("rest_framework/",)),
    ("web server (uvicorn, daphne, event loop)", ("uvicorn/", "daphne/", "twisted/", "asyncio/", "uvloop")),
]
OTHER = "other"


def phase_of(stack: str) -> str:
    for frame in reversed(stack.split(";")):
        for phase, needles in PHASES:
            if any(needle in frame for needle in needles):
                return phase
    return OTHER


def percent_by_phase(collapsed: Path) -> dict[str, float]:
    """Share of the samples in each phase (percent, largest first); empty when nothing was sampled."""
    samples: Counter[str] = Counter()
    if collapsed.exists():
        for line in collapsed.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                samples[phase_of(stack)] += int(count)
    total = sum(samples.values())
    if not total:
        return {}
    return {phase: 100 * n / total for phase, n in samples.most_common()}
