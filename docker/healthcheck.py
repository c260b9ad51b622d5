"""Container health check, for the process the entrypoint started (its role file says which).

web: ``/healthz`` must answer 200. It is the shallow liveness check, so a
database failover or a Redis blip never makes Docker or ECS restart web
containers. feed: the worker touches ``$STOCKCHAT_FEED_HEARTBEAT_FILE`` after
every tick it records, which it does only while holding a freshly renewed
lease; a file older than ``$STOCKCHAT_FEED_STALE_SECONDS`` (60) means the worker
is hung or cannot reach the database, and the container is restarted. One-off
commands (release, migrate, manage) are healthy while they run.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from pathlib import Path

DEFAULT_HEARTBEAT_FILE = "/tmp/stockchat-feed-heartbeat"  # noqa: S108 - the image's ENV says the same


def web_is_live() -> bool:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return response.status == 200
    except OSError:
        return False


def feed_is_fresh() -> bool:
    path = Path(os.environ.get("STOCKCHAT_FEED_HEARTBEAT_FILE") or DEFAULT_HEARTBEAT_FILE)
    stale_after = float(os.environ.get("STOCKCHAT_FEED_STALE_SECONDS") or 60)
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return False  # no tick recorded yet (the start period covers start-up)
    return age <= stale_after


def main() -> int:
    try:
        role_file = os.environ.get("STOCKCHAT_ROLE_FILE", "/tmp/stockchat-role")  # noqa: S108 - the entrypoint's
        role = Path(role_file).read_text().strip()
    except OSError:
        role = "web"
    if role == "web":
        return 0 if web_is_live() else 1
    if role == "feed":
        return 0 if feed_is_fresh() else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
