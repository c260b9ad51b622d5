"""The app's own processes (daphne or uvicorn, the feed worker) started for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.db import connection

from testsupport.servers import READY_TIMEOUT_SECONDS, ServerUnavailable, free_port, stop_process
from testsupport.waiting import port_open, wait_until

ROOT = Path(__file__).resolve().parent.parent


def app_environment(**extra: str) -> dict[str, str]:
    """The environment of a child process that shares this test's database."""
    env = dict(os.environ)
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("processes can share only a PostgreSQL test database")
    env["DATABASE_URL"] = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class AppProcess:
    def __init__(self, args: list[str], env: dict[str, str], name: str) -> None:
        self.name = name
        self.log = Path(tempfile.mkstemp(prefix=f"stockchat-{name}-", suffix=".log")[1])
        self._log_handle = self.log.open("wb")
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._log_handle, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_port(self, port: int) -> None:
        wait_until(
            lambda: port_open(port),
            what=f"{self.name} listening on port {port}",
            timeout=READY_TIMEOUT_SECONDS,
            process=self.process,
            log=self.log,
            error=ServerUnavailable,
        )

    def stop(self, *, keep_log: bool = False) -> None:
        """SIGTERM, then wait (SIGKILL after 15 s); the log is removed unless ``keep_log``."""
        stop_process(self.process)
        self._log_handle.close()
        if not keep_log:
            self.log.unlink(missing_ok=True)


def daphne_command(port: int) -> list[str]:
    """daphne as the Docker entrypoint and `make run` start it: stopping closes sockets with 1012."""
    server = [sys.executable, "-m", "stockchat.deploy.server"]
    return [*server, "-b", "127.0.0.1", "-p", str(port), "stockchat.asgi:application"]


def start_daphne(env: dict[str, str], port: int | None = None) -> tuple[AppProcess, int]:
    """daphne on ``port`` (a free one by default; the same again to restart a server)."""
    port = port or free_port()
    daphne = AppProcess(daphne_command(port), env, name=f"daphne-{port}")
    daphne.wait_for_port(port)
    return daphne, port


# uvicorn as the Docker entrypoint runs it (docker/entrypoint.sh), less the bind address:
# no lifespan (Channels' router has no handler for it), WebSockets through websockets'
# sans-I/O protocol (fails at start-up when missing, rather than refusing every socket),
# without permessage-deflate (as daphne: it doubles the memory per socket and compresses each
# frame once per socket), no access log (the app logs each request), a ping every 20 s,
# at most 5 s for requests in flight on shutdown, and X-Forwarded-* ignored unless asked for.
UVICORN_OPTIONS = [
    "--lifespan",
    "off",
    "--ws",
    "websockets-sansio",
    "--no-access-log",
    "--no-proxy-headers",
    "--ws-per-message-deflate",
    "false",
    "--ws-ping-interval",
    "20",
    "--ws-ping-timeout",
    "20",
    "--timeout-graceful-shutdown",
    "5",
]


def start_uvicorn(env: dict[str, str]) -> tuple[AppProcess, int]:
    port = free_port()
    uvicorn = AppProcess(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *UVICORN_OPTIONS,
            "stockchat.asgi:application",
        ],
        env,
        name=f"uvicorn-{port}",
    )
    uvicorn.wait_for_port(port)
    return uvicorn, port


def start_feed_worker(env: dict[str, str], *args: str) -> AppProcess:
    return AppProcess([sys.executable, "manage.py", "run_market_feed", *args], env, name="feed-worker")
