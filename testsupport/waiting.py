"""Waiting for something to become ready, with a deadline, for tests and the servers they start.

``wait_until`` is the one polling loop: it calls a predicate until it returns a
true value, and fails loudly (what it waited for, how long, and, when a process
was given and has died, its exit code and the tail of its log) instead of hanging.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

POLL_INTERVAL_SECONDS = 0.05
LOG_TAIL_CHARS = 2000

T = TypeVar("T")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts a TCP connection on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _log_tail(log: Path | Callable[[], str] | None) -> str:
    if log is None:
        return ""
    if callable(log):
        text = log()
    elif log.exists():
        text = log.read_text(errors="replace")
    else:
        return ""
    text = text[-LOG_TAIL_CHARS:].strip()
    return f"\n--- last lines of its log ---\n{text}" if text else ""


def wait_until(
    predicate: Callable[[], T],
    *,
    what: str,
    timeout: float,
    process: subprocess.Popen | None = None,
    log: Path | Callable[[], str] | None = None,
    error: type[Exception] = AssertionError,
) -> T:
    """Call ``predicate`` until it returns a true value, and return that value.

    Raises ``error`` when ``timeout`` seconds pass first, or at once when
    ``process`` exits meanwhile (a server that died never becomes ready). The
    message names ``what``, the seconds waited, the exit code, and the tail of
    ``log`` (a file, or a callable returning the text; a callable given with a
    process is only read once that process has exited, so it may read its pipe).
    """
    started = time.monotonic()
    deadline = started + timeout
    while True:
        if process is not None and process.poll() is not None:
            elapsed = time.monotonic() - started
            raise error(
                f"{what}: the process exited with code {process.returncode} after {elapsed:.1f} s{_log_tail(log)}"
            )
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL_SECONDS)
    elapsed = time.monotonic() - started
    running = process is not None and process.poll() is None
    tail = "" if running and callable(log) else _log_tail(log)
    raise error(f"{what}: not ready after {elapsed:.1f} s (timeout {timeout:g} s){tail}")


async def wait_until_async(predicate: Callable[[], T], *, what: str, timeout: float) -> T:  # noqa: ASYNC109 (same call as wait_until)
    """``wait_until`` for a test running on the event loop that must keep running meanwhile."""
    started = time.monotonic()
    while not (result := predicate()):
        if time.monotonic() - started >= timeout:
            raise AssertionError(f"{what}: not ready after {time.monotonic() - started:.1f} s (timeout {timeout:g} s)")
        await asyncio.sleep(POLL_INTERVAL_SECONDS)
    return result
