"""Stopping a web process (SIGTERM, as a deploy does) closes every open socket with 1012.

The web process is started as the Docker entrypoint starts it (``docker/entrypoint.sh web``), under
uvicorn (the default) and under daphne (``STOCKCHAT_WEB_SERVER=daphne``). Each socket must get a
close frame with code 1012 (service restart), which tells the page's client to reconnect at once,
rather than a dropped connection (1006), and the process must exit within its stop timeout.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import websockets
from channels.db import database_sync_to_async

from conftest import session_cookie_for
from core.realtime.socket import CLOSE_SERVICE_RESTART
from testsupport.processes import ROOT, AppProcess, app_environment
from testsupport.servers import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
SOCKETS = 6
# Well within a container's stop timeout (ECS stopTimeout 30 s, docker stop 10 s).
STOP_GRACE_SECONDS = 10


async def open_socket(port: int, cookie: str):
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": cookie},
        open_timeout=10,
    )
    async with asyncio.timeout(10):
        hello = json.loads(await socket.recv())
    assert hello["type"] == "hello", hello
    return socket


async def close_code(socket) -> int | None:
    """The code of the close frame the server sent, or None when the connection just dropped."""
    async with asyncio.timeout(STOP_GRACE_SECONDS):
        await socket.wait_closed()
    received = socket.protocol.close_exc.rcvd
    return received.code if received is not None else None


@pytest.mark.parametrize("server", ["uvicorn", "daphne"])
async def test_sigterm_closes_every_socket_with_service_restart(server, make_user):
    alice, bob = await database_sync_to_async(lambda: (make_user("alice"), make_user("bob")))()
    cookies = [await database_sync_to_async(session_cookie_for)(user) for user in (alice, bob)]
    port = free_port()
    env = app_environment(PORT=str(port), STOCKCHAT_WEB_SERVER=server, STOCKCHAT_MARKET_FEED="off")
    # The image's virtualenv is on its PATH; here, the one running the tests.
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    web = AppProcess([str(ENTRYPOINT), "web"], env, name=f"{server}-{port}")
    try:
        await asyncio.to_thread(web.wait_for_port, port)
        sockets = [await open_socket(port, cookies[i % 2]) for i in range(SOCKETS)]
        web.process.send_signal(signal.SIGTERM)
        codes = await asyncio.gather(*(close_code(socket) for socket in sockets))
        assert codes == [CLOSE_SERVICE_RESTART] * SOCKETS, web.output()
        try:
            returncode = await asyncio.to_thread(web.process.wait, STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{server} still running {STOP_GRACE_SECONDS} s after SIGTERM:\n{web.output()}")
        assert returncode in (0, -signal.SIGTERM), web.output()
    finally:
        web.stop()
