"""daphne, stopping gracefully: ``python -m stockchat.deploy.server`` takes daphne's own arguments.

On SIGTERM (a deploy, ``docker stop``) or Ctrl-C, plain daphne cancels every application and drops
its connections: each WebSocket client sees the connection vanish (1006) and reconnects only after
its backoff. This server first stops listening, lets the fan-out hub write what is already queued
for each socket, closes every socket with 1012 (service restart), waits for the clients to answer
the close, and only then lets daphne stop. The page's client reconnects at once on 1012 and resumes.

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
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import defer

from stockchat.realtime.hub import drain_sockets
from stockchat.realtime.socket import CLOSE_SERVICE_RESTART

# Named, not __name__: run with -m, this module is __main__.
logger = logging.getLogger("stockchat.deploy.server")

# How long a socket may take to write the frames queued for it before it is closed anyway.
FLUSH_TIMEOUT_SECONDS = 2.0
# How long to wait for clients to answer the close frames. Together with the flush this stays
# well inside a container's stop timeout (docker stop: 10 s; the ECS task definitions: 30 s).
CLOSE_TIMEOUT_SECONDS = 3.0


class GracefulServer(Server):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ports: list[Any] = []
        # Set once stopping has begun and every WebSocket is gone.
        self.websockets_gone: asyncio.Event | None = None

    def listen_success(self, port: Any) -> None:
        self.ports.append(port)
        super().listen_success(port)

    def protocol_disconnected(self, protocol: Any) -> None:
        super().protocol_disconnected(protocol)
        if self.websockets_gone is not None and not self.open_websockets():
            self.websockets_gone.set()

    def kill_all_applications(self) -> defer.Deferred:
        # daphne runs this before the reactor shuts down, and Twisted waits for the Deferred.
        closing = defer.Deferred.fromFuture(asyncio.ensure_future(self.close_websockets()))
        closing.addErrback(lambda failure: logger.error("closing the sockets failed: %s", failure.value))
        closing.addCallback(lambda _: Server.kill_all_applications(self))
        return closing

    async def close_websockets(self) -> None:
        # New connections go elsewhere (another process, or a refused connect the client retries).
        for port in self.ports:
            port.stopListening()
        try:
            async with asyncio.timeout(FLUSH_TIMEOUT_SECONDS):
                await drain_sockets()
        except TimeoutError:
            logger.info("closing sockets before all their queued frames were written")
        self.websockets_gone = asyncio.Event()
        sockets = self.open_websockets()
        for protocol in sockets:
            # Sockets still in their handshake are left to daphne: their client retries.
            if protocol.state == WebSocketProtocol.STATE_OPEN:
                protocol.sendCloseFrame(code=CLOSE_SERVICE_RESTART)
        if self.open_websockets():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                    await self.websockets_gone.wait()
        logger.info("closed %d sockets for a restart; %d did not answer", len(sockets), len(self.open_websockets()))

    def open_websockets(self) -> list[WebSocketProtocol]:
        return [
            protocol
            for protocol, details in self.connections.items()
            if isinstance(protocol, WebSocketProtocol) and "disconnected" not in details
        ]


class GracefulCommandLineInterface(CommandLineInterface):
    server_class = GracefulServer


if __name__ == "__main__":
    GracefulCommandLineInterface.entrypoint()
