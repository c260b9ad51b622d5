"""The base of the one WebSocket a browser tab opens (``/ws/``).

Frames are JSON objects with a ``type``; the protocol is documented in
``docs/websocket.md``. A frame that cannot be understood gets an ``error``
frame with a stable ``code`` and the socket stays open. Events reach the
socket through the process's fan-out hub (``stockchat.realtime.hub``), never
through a channel of its own.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from stockchat.errors import ServiceError
from stockchat.realtime.groups import session_group, user_group
from stockchat.realtime.hub import encode_frame, get_hub
from stockchat.realtime.limits import TokenBucket
from stockchat.realtime.outbox import Outbox
from stockchat.realtime.tasks import spawn

logger = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 16 * 1024
FRAME_RATE_PER_SECOND = 20.0
FRAME_BURST = 60

# Close codes in the private range (4000-4999) so clients can tell them apart.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_SIGNED_OUT = 4403  # the session signed out or the account was deactivated
CLOSE_TOO_SLOW = 4408
# The standard "service restart": the process is stopping (a deploy); reconnect at once.
CLOSE_SERVICE_RESTART = 1012

ERROR_MALFORMED = "malformed"
ERROR_TOO_LARGE = "too_large"
ERROR_UNKNOWN_TYPE = "unknown_type"
ERROR_BINARY = "binary_not_supported"
ERROR_RATE_LIMITED = "rate_limited"


class BaseSocketConsumer(AsyncWebsocketConsumer):
    # No channel of its own: the hub follows groups for every socket of the
    # process, which saves a channel-layer receive loop per idle socket.
    channel_layer_alias = "stockchat.no-channel-per-socket"

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels runs aclose_old_connections() (a thread hop) before every
        # handler. These handlers touch the ORM only through
        # database_sync_to_async, which cleans up connections itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Closing before accept() rejects the handshake (HTTP 403).
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.followed: set[str] = set()
        self.closing = False
        self.rate = TokenBucket(rate=FRAME_RATE_PER_SECOND, burst=FRAME_BURST)
        self.outbox = Outbox(self._write, self._too_slow)
        await self.accept()
        self.send_frame({"type": "hello", "v": PROTOCOL_VERSION, "user": user.get_username()})
        await self.follow(user_group(user.pk))
        # Sign-out closes the sockets of its session (accounts/events.py).
        session = self.scope.get("session")
        if session is not None and session.session_key:
            await self.follow(session_group(session.session_key))

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "outbox"):
            return
        self.closing = True
        await get_hub().unsubscribe_all(self, self.followed)
        self.followed.clear()
        await self.outbox.close()

    # --- groups ---------------------------------------------------------------------

    async def follow(self, group: str) -> None:
        if group not in self.followed:
            self.followed.add(group)
            await get_hub().subscribe(group, self)

    async def unfollow(self, group: str) -> None:
        if group in self.followed:
            self.followed.discard(group)
            await get_hub().unsubscribe(group, self)

    # --- what the hub calls ---------------------------------------------------------

    def deliver(self, text: str, conflate: str | None) -> None:
        if not self.closing:
            self.outbox.deliver(text, conflate)

    def control(self, command: dict[str, Any]) -> None:
        action = command.get("action")
        if action == "close":
            # A password change closes the user's other sessions' sockets, not this session's.
            if any(group in self.followed for group in command.get("keep", ())):
                return
            spawn(self._close(int(command.get("code", 1000))), name="socket-close")
        elif action == "follow" and isinstance(command.get("group"), str):
            spawn(self._follow(command["group"]), name="socket-follow")
        elif action == "leave" and isinstance(command.get("group"), str):
            spawn(self._leave(command["group"], command.get("frame")), name="socket-leave")
        else:
            logger.warning("socket ignored an unknown control command %r", action)

    async def _follow(self, group: str) -> None:
        if not self.closing:
            await self.follow(group)

    async def _leave(self, group: str, frame: dict[str, Any] | None) -> None:
        await self.unfollow(group)
        if frame is not None:
            self.send_frame(frame)

    async def _close(self, code: int) -> None:
        if not self.closing:
            self.closing = True
            await self.close(code=code)

    async def drain(self) -> None:
        """Stop taking events and wait until the frames already queued are written.

        The server is stopping and closes the socket next (1012): the client then resumes from
        the database, so what comes after this is not needed, and what came before is not lost.
        The caller bounds the wait.
        """
        self.closing = True
        await self.outbox.flush()

    async def _too_slow(self) -> None:
        logger.info("closing a socket of user %s that could not keep up", self.user.pk)
        await self._close(CLOSE_TOO_SLOW)

    async def _write(self, text: str) -> None:
        await self.send(text_data=text)

    # --- frames from the client ---------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if bytes_data is not None:
            self.send_error(ERROR_BINARY, "Frames must be JSON text.")
            return
        assert text_data is not None
        if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode()) > MAX_FRAME_BYTES:
            self.send_error(ERROR_TOO_LARGE, f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            self.send_error(ERROR_MALFORMED, "Frame is not valid JSON.")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            self.send_error(ERROR_MALFORMED, 'Frame must be a JSON object with a string "type".')
            return
        if not self.rate.take():
            # Parsed first so the error can name the frame (its ref) the client must resend.
            self.send_error(ERROR_RATE_LIMITED, "Too many frames; slow down and send this one again.", frame)
            return
        handler = self.frame_handlers().get(frame["type"])
        if handler is None:
            self.send_error(ERROR_UNKNOWN_TYPE, f"Unknown frame type {frame['type'][:64]!r}.", frame)
            return
        try:
            await handler(frame)
        except ServiceError as exc:
            # The same refusals as the API's, with the same codes.
            self.send_error(exc.code, exc.detail, frame)

    def frame_handlers(self) -> dict[str, Any]:
        return {"ping": self.handle_ping}

    async def handle_ping(self, frame: dict[str, Any]) -> None:
        self.send_frame({"type": "pong", "ref": frame.get("ref")})

    # --- frames to the client -----------------------------------------------------------

    def send_frame(self, frame: dict[str, Any]) -> None:
        """Queue a frame behind everything already queued for this socket."""
        self.outbox.deliver(encode_frame(frame))

    def send_error(self, code: str, detail: str, frame: dict[str, Any] | None = None, **extra: Any) -> None:
        error: dict[str, Any] = {"type": "error", "code": code, "detail": detail, **extra}
        if frame is not None and "ref" in frame:
            error["ref"] = frame["ref"]
        self.send_frame(error)
