"""Running the image's entrypoint as a container would: environment, commands, a live web process."""

from __future__ import annotations

import http.client
import signal
import sqlite3
import subprocess
from pathlib import Path

from stockchat.deploy.tests.conftest import ROOT
from testsupport.waiting import wait_until

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
HEALTHCHECK = ROOT / "docker" / "healthcheck.py"


def tables(db: Path) -> set[str]:
    if not db.exists():
        return set()
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ENTRYPOINT), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def start_web(env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(ENTRYPOINT)], cwd=ROOT, env={**env, "PORT": str(port)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_until(
            lambda: answers_health_check(port),
            what=f"the web container's server on port {port}",
            timeout=60,
            process=process,
            log=lambda: process.stdout.read().decode(errors="replace"),
        )
    except AssertionError:
        process.kill()
        process.wait()
        raise
    return process


def answers_health_check(port: int) -> bool:
    try:
        get(port, "/healthz", {"Host": "10.0.0.5"})
    except OSError:
        return False
    return True


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
