"""The one polling helper: success, a deadline that passes, a process that dies while waited on."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import pytest

from testsupport.servers import ServerUnavailable, free_port
from testsupport.waiting import port_open, wait_until, wait_until_async


def test_returns_the_predicates_value_once_it_is_true():
    calls = []

    def third_time_lucky():
        calls.append(1)
        return "ready" if len(calls) >= 3 else None

    assert wait_until(third_time_lucky, what="lucky", timeout=30) == "ready"
    assert len(calls) == 3


def test_a_deadline_that_passes_names_what_was_awaited_and_the_log(tmp_path):
    log = tmp_path / "server.log"
    log.write_text("listening soon\nstill warming up\n")
    with pytest.raises(ServerUnavailable) as raised:
        wait_until(lambda: False, what="the frobnicator", timeout=0.2, log=log, error=ServerUnavailable)
    message = str(raised.value)
    assert message.startswith("the frobnicator: not ready after ")
    assert "timeout 0.2 s" in message
    assert "still warming up" in message


def test_a_process_that_dies_fails_at_once_with_its_exit_code_and_log_tail(tmp_path):
    log = tmp_path / "child.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-c", "import sys; print('x' * 5000); print('bad config'); sys.exit(3)"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    # A timeout far longer than the test: only the dead process can end the wait.
    with pytest.raises(AssertionError) as raised:
        wait_until(lambda: False, what="child server", timeout=3600, process=child, log=log)
    message = str(raised.value)
    assert message.startswith("child server: the process exited with code 3 after ")
    assert message.rstrip().endswith("bad config")
    assert len(message) < 2500  # the tail, not the whole log


def test_a_log_callable_is_read_from_the_dead_process_pipe():
    child = subprocess.Popen(
        [sys.executable, "-c", "print('from the pipe'); raise SystemExit(5)"], stdout=subprocess.PIPE
    )
    with pytest.raises(AssertionError, match=r"(?s)code 5 .*from the pipe"):
        wait_until(lambda: False, what="piped", timeout=3600, process=child, log=lambda: child.stdout.read().decode())


def test_port_open_sees_a_listener_and_not_a_free_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert port_open(listener.getsockname()[1])
    assert not port_open(free_port())


async def test_the_async_wait_lets_the_event_loop_run_until_the_predicate_holds():
    ready = asyncio.Event()
    asyncio.get_running_loop().call_later(0.1, ready.set)
    assert await wait_until_async(ready.is_set, what="the timer", timeout=30)
    with pytest.raises(AssertionError, match=r"^never: not ready after "):
        await wait_until_async(lambda: False, what="never", timeout=0.1)
