"""The one WebSocket a browser tab opens (``/ws/``).

Frames are JSON objects with a ``type``; the protocol is documented in
``docs/websocket.md``. A frame that cannot be understood gets an ``error``
frame with a stable ``code`` and the socket stays open.
"""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.events import session_group, user_group

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 16 * 1024

# Close codes in the private range (4000-4999) so clients can tell them apart.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_SIGNED_OUT = 4403

ERROR_MALFORMED = "malformed"
ERROR_TOO_LARGE = "too_large"
ERROR_UNKNOWN_TYPE = "unknown_type"
ERROR_BINARY = "binary_not_supported"


class SocketConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Closing before accept() rejects the handshake (HTTP 403).
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.accept()
        await self.join_auth_groups(user)
        await self.send_frame({"type": "hello", "v": PROTOCOL_VERSION, "user": user.get_username()})

    # --- Sign-in: sign-out and deactivation close the socket (accounts/events.py) ---
    async def join_auth_groups(self, user: Any) -> None:
        session = self.scope.get("session")
        self.auth_groups = [user_group(user.pk)]
        if session is not None and session.session_key:
            self.auth_groups.append(session_group(session.session_key))
        for group in self.auth_groups:
            await self.channel_layer.group_add(group, self.channel_name)

    async def auth_close(self, event: dict[str, Any]) -> None:
        await self.close(code=CLOSE_SIGNED_OUT)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "auth_groups", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if bytes_data is not None:
            await self.send_error(ERROR_BINARY, "Frames must be JSON text.")
            return
        assert text_data is not None
        if len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.send_error(ERROR_TOO_LARGE, f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.send_error(ERROR_MALFORMED, "Frame is not valid JSON.")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_error(ERROR_MALFORMED, 'Frame must be a JSON object with a string "type".')
            return
        handler = self.frame_handlers().get(frame["type"])
        if handler is None:
            await self.send_error(ERROR_UNKNOWN_TYPE, f"Unknown frame type {frame['type'][:64]!r}.", frame)
            return
        await handler(frame)

    def frame_handlers(self) -> dict[str, Any]:
        return {"ping": self.handle_ping}

    async def handle_ping(self, frame: dict[str, Any]) -> None:
        await self.send_frame({"type": "pong", "ref": frame.get("ref")})

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, separators=(",", ":")))

    async def send_error(self, code: str, detail: str, frame: dict[str, Any] | None = None) -> None:
        error: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
        if frame is not None and "ref" in frame:
            error["ref"] = frame["ref"]
        await self.send_frame(error)
