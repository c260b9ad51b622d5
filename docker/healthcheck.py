"""Container health check: the web process must answer /healthz; other processes are alive if running."""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path


def main() -> int:
    try:
        role_file = os.environ.get("STOCKCHAT_ROLE_FILE", "/tmp/stockchat-role")  # noqa: S108 - the entrypoint's
        role = Path(role_file).read_text().strip()
    except OSError:
        role = "web"
    if role != "web":
        return 0
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
