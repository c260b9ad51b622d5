"""A graphql-transport-ws client over Channels' ``WebsocketCommunicator`` for consumer tests."""

from __future__ import annotations

import itertools
from typing import Any

from channels.testing import WebsocketCommunicator

PROTOCOL = "graphql-transport-ws"
TIMEOUT = 10


class GraphQLSocket:
    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self._ids = itertools.count(1)

    @classmethod
    async def open(cls, application, headers, *, payload: dict[str, Any] | None = None) -> GraphQLSocket:
        communicator = WebsocketCommunicator(application, "/graphql/", headers=headers, subprotocols=[PROTOCOL])
        connected, subprotocol = await communicator.connect(timeout=TIMEOUT)
        assert connected
        assert subprotocol == PROTOCOL
        socket = cls(communicator)
        await communicator.send_json_to({"type": "connection_init", "payload": payload or {}})
        return socket

    async def acked(self) -> dict[str, Any]:
        message = await self.receive()
        assert message["type"] == "connection_ack", message
        return message

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        operation_id = str(next(self._ids))
        await self.communicator.send_json_to(
            {"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}}
        )
        return operation_id

    async def receive(self) -> dict[str, Any]:
        return await self.communicator.receive_json_from(timeout=TIMEOUT)

    async def next_data(self, operation_id: str) -> dict[str, Any]:
        """The data of the operation's next result (other messages must not come first)."""
        message = await self.receive()
        assert (message.get("id"), message["type"]) == (operation_id, "next"), message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]

    async def complete(self, operation_id: str) -> None:
        await self.communicator.send_json_to({"id": operation_id, "type": "complete"})

    async def nothing_more(self) -> bool:
        return await self.communicator.receive_nothing(timeout=0.2)

    async def close(self) -> None:
        await self.communicator.disconnect()
