"""The socket's contract (docs/asyncapi.yaml) in tests: every frame the server sends is checked.

``ContractCommunicator`` is Channels' ``WebsocketCommunicator`` that validates each
text frame the app sends against the AsyncAPI document's schema for its
``type``, including frames a test never reads (checked when it disconnects).
Every socket test talks to the app through it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from channels.testing import WebsocketCommunicator
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
DOCUMENT_URI = "urn:stockchat:asyncapi"


class ContractViolation(AssertionError):
    pass


@dataclass(frozen=True)
class Contract:
    document: dict[str, Any]
    client_frames: dict[str, Draft7Validator]  # frame type -> validator of the whole frame
    server_frames: dict[str, Draft7Validator]

    def check_server_frame(self, text: str) -> dict[str, Any]:
        """The decoded frame; ``ContractViolation`` when the document does not allow it."""
        try:
            frame = json.loads(text)
        except ValueError:
            raise ContractViolation(f"the server sent a frame that is not JSON: {text[:200]!r}") from None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise ContractViolation(f"the server sent a frame without a string type: {text[:200]!r}")
        validator = self.server_frames.get(frame["type"])
        if validator is None:
            raise ContractViolation(f"docs/asyncapi.yaml has no server frame of type {frame['type']!r}: {frame}")
        errors = sorted(validator.iter_errors(frame), key=lambda error: list(error.absolute_path))
        if errors:
            details = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(frame)'}: {e.message}" for e in errors)
            raise ContractViolation(f"{frame['type']} frame breaks docs/asyncapi.yaml: {details}\n{frame}")
        return frame


def _resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _frames(document: dict[str, Any], registry: Registry, action: str) -> dict[str, Draft7Validator]:
    frames: dict[str, Draft7Validator] = {}
    for operation in document["operations"].values():
        if operation["action"] != action:
            continue
        for channel_message in operation["messages"]:
            message = _resolve(document, channel_message["$ref"])
            message = _resolve(document, message["$ref"]) if "$ref" in message else message
            payload_ref = message["payload"]["$ref"]
            frame_type = _resolve(document, payload_ref)["properties"]["type"]["const"]
            assert frame_type not in frames, f"two {action} messages of type {frame_type}"
            frames[frame_type] = Draft7Validator({"$ref": DOCUMENT_URI + payload_ref}, registry=registry)
    return frames


@functools.cache
def contract() -> Contract:
    document = yaml.safe_load(DOCUMENT.read_text())
    registry = Registry().with_resource(DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT7))
    return Contract(
        document=document,
        # The document describes the server: it receives the client's frames and sends its own.
        client_frames=_frames(document, registry, "receive"),
        server_frames=_frames(document, registry, "send"),
    )


class ContractCommunicator(WebsocketCommunicator):
    """A ``WebsocketCommunicator`` whose every received frame must match docs/asyncapi.yaml."""

    async def receive_output(self, timeout: float = 1) -> dict[str, Any]:  # noqa: ASYNC109 (the parent's signature)
        message = await super().receive_output(timeout)
        self._check(message)
        return message

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:  # noqa: ASYNC109 (the parent's signature)
        # Frames the test did not read were still sent to the client: they must match too.
        while not self.output_queue.empty():
            self._check(self.output_queue.get_nowait())
        await super().disconnect(code, timeout)

    @staticmethod
    def _check(message: dict[str, Any]) -> None:
        if message.get("type") != "websocket.send":
            return
        if message.get("text") is None:
            raise ContractViolation("the server sent a binary frame; the protocol has text frames only")
        contract().check_server_frame(message["text"])
