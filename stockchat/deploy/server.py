"""daphne, stopping gracefully: ``python -m stockchat.deploy.server`` takes daphne's own arguments.

On SIGTERM (a deploy, ``docker stop``) or Ctrl-C, plain daphne cancels every application and drops
its connections: each WebSocket client sees the connection vanish (1006) and reconnects only after
its backoff, and a request cut off half-way can leave a worker thread that keeps the process from
exiting until it is killed. This server first stops listening, lets the fan-out hub write what is
already queued for each socket, closes every socket with 1012 (service restart), waits (bounded) for
requests in flight to finish and clients to answer the close, and only then lets daphne stop. The
page's client reconnects at once on 1012 and resumes.

The close frame is sent by the server, not by the application: daphne passes an application's
``websocket.close`` to autobahn's ``sendClose``, which accepts only 1000 and 3000-4999.
"""

from __future__ import annotations

# daphne.server installs Twisted's asyncio reactor; it must be imported before anything else
# touches Twisted.
from daphne.server import Server  # isort: skip

import asyncio
import contextlib
import logging
import os
import sys
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import defer

from core.realtime.hub import drain_sockets
from core.realtime.socket import CLOSE_SERVICE_RESTART

# Named, not __name__: run with -m, this module is __main__.
logger = logging.getLogger("stockchat.deploy.server")

# How long a socket may take to write the frames queued for it before it is closed anyway.
FLUSH_TIMEOUT_SECONDS = 2.0
# How long requests in flight may take to finish, and clients to answer the close frames. With the
# flush this stays well inside a container's stop timeout (docker stop: 10 s; ECS tasks here: 30 s).
FINISH_TIMEOUT_SECONDS = 5.0


class GracefulServer(Server):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ports: list[Any] = []
        # Set once stopping has begun and every request and WebSocket is done.
        self.all_done: asyncio.Event | None = None

    def listen_success(self, port: Any) -> None:
        self.ports.append(port)
        super().listen_success(port)

    def protocol_disconnected(self, protocol: Any) -> None:
        super().protocol_disconnected(protocol)
        if self.all_done is not None and not self.open_connections():
            self.all_done.set()

    def kill_all_applications(self) -> defer.Deferred:
        # daphne runs this before the reactor shuts down, and Twisted waits for the Deferred.
        closing = defer.Deferred.fromFuture(asyncio.ensure_future(self.finish_connections()))
        closing.addErrback(lambda failure: logger.error("stopping gracefully failed: %s", failure.value))
        closing.addCallback(lambda _: Server.kill_all_applications(self))
        return closing

    async def finish_connections(self) -> None:
        """Stop listening, let requests in flight finish, and close every WebSocket with 1012."""
        # New connections go elsewhere (another process, or a refused connect the client retries).
        for port in self.ports:
            port.stopListening()
        try:
            async with asyncio.timeout(FLUSH_TIMEOUT_SECONDS):
                await drain_sockets()
        except TimeoutError:
            logger.info("closing sockets before all their queued frames were written")
        self.all_done = asyncio.Event()
        sockets = [protocol for protocol in self.open_connections() if isinstance(protocol, WebSocketProtocol)]
        for protocol in sockets:
            # Sockets still in their handshake are left to daphne: their client retries.
            if protocol.state == WebSocketProtocol.STATE_OPEN:
                protocol.sendCloseFrame(code=CLOSE_SERVICE_RESTART)
        # Requests in flight finish: cancelling one half-way (as daphne does next) can leave a
        # worker thread waiting for the event loop forever, and the process then never exits.
        if self.open_connections():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FINISH_TIMEOUT_SECONDS):
                    await self.all_done.wait()
        left = self.open_connections()
        logger.info(
            "closed %d sockets for a restart; %d connections still open after %g s",
            len(sockets),
            len(left),
            FINISH_TIMEOUT_SECONDS,
        )

    def open_connections(self) -> list[Any]:
        """HTTP requests not yet answered, and WebSockets not yet closed."""
        return [protocol for protocol, details in self.connections.items() if "disconnected" not in details]


class GracefulCommandLineInterface(CommandLineInterface):
    server_class = GracefulServer


def main() -> None:
    code = 0
    try:
        GracefulCommandLineInterface.entrypoint()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    # A request still running when daphne cancelled it (one that took longer than the wait above)
    # can leave its worker thread waiting for the stopped event loop forever, and the interpreter
    # joins worker threads before it exits: leave without them. Their transactions are already
    # committed or rolled back by the database when the connection closes.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
