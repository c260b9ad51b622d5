"""The base of the one WebSocket a browser tab opens (``/ws/``).

Frames are JSON objects with a ``type``; the protocol is documented in
``docs/websocket.md``. A frame that cannot be understood gets an ``error``
frame with a stable ``code`` and the socket stays open: hostile input (deep
nesting, NUL and other control characters, ids that are not ASCII digits) is
refused through ``core.inputs`` before any handler sees it, and a handler
that fails anyway answers ``internal_error``. Whatever ends a consumer, its
disconnect path runs, so the hub never keeps a dead socket. Events reach the
socket through the process's fan-out hub (``core.realtime.hub``), never
through a channel of its own.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from core.errors import ServiceError
from core.inputs import (
    ERROR_CONTROL_CHARACTER,
    ERROR_MALFORMED_JSON,
    InputError,
    find_forbidden_text,
    loads_json,
)
from core.realtime.groups import session_group, user_group
from core.realtime.handshake import MAX_TOKEN_LENGTH, bearer_token, has_session_cookie
from core.realtime.hub import encode_frame, get_hub
from core.realtime.limits import TokenBucket
from core.realtime.outbox import Outbox
from core.realtime.tasks import spawn

logger = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 16 * 1024
FRAME_RATE_PER_SECOND = 20.0
FRAME_BURST = 60

# Close codes in the private range (4000-4999) so clients can tell them apart.
CLOSE_UNAUTHENTICATED = 4401  # no credentials, or ones that are unknown, revoked or expired
CLOSE_SIGNED_OUT = 4403  # the session signed out, the token was revoked, or the account was deactivated
CLOSE_TOO_SLOW = 4408
# What the server closes with when the consumer itself fails (not a frame's handler, which
# answers internal_error); the socket is cleaned up like any other.
CLOSE_INTERNAL_ERROR = 1011
# The standard "service restart": the process is stopping (a deploy); reconnect at once.
CLOSE_SERVICE_RESTART = 1012

# A socket opened without credentials must send its auth frame this soon.
AUTH_FRAME_SECONDS = 5.0
ERROR_NOT_AUTHENTICATED = "not_authenticated"

ERROR_MALFORMED = "malformed"
ERROR_TOO_LARGE = "too_large"
ERROR_UNKNOWN_TYPE = "unknown_type"
ERROR_BINARY = "binary_not_supported"
ERROR_RATE_LIMITED = "rate_limited"
ERROR_INTERNAL = "internal_error"


def _non_finite_number(value: Any) -> bool:
    """True when a decoded frame holds NaN or an infinity (``NaN``, ``1e999``): not JSON, and a
    reply echoing it would not be JSON either."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


@dataclass(frozen=True)
class SocketCredential:
    """What a socket was opened with; the socket stays open only as long as it stands."""

    user: Any
    kind: str  # "session", "api_token" or "access_token"
    group: str | None = None  # a close command to this group closes the socket (sign-out, revocation)
    expires_at: float | None = None  # Unix time at which the socket closes with 4401 (access tokens)


class CredentialRefused(Exception):
    """A token the socket cannot accept; ``code`` is the API's code for the same refusal."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


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

    # --- authentication (docs/websocket.md, "Opening") --------------------------------------

    async def connect(self) -> None:
        # The Origin was checked before (core.realtime.handshake). Every socket that got
        # this far is accepted, so that a client can tell missing or refused credentials (4401)
        # from a refused Origin (the handshake's 403).
        self.user = None
        self.closing = False
        self.credential_timer: asyncio.TimerHandle | None = None
        await self.accept()
        token = bearer_token(self.scope)
        user = self.scope.get("user")
        if token is not None:
            await self.sign_in_with_token(token)  # a token wins over a cookie sent along with it
        elif user is not None and user.is_authenticated:
            session = self.scope["session"]
            # Sign-out closes the sockets of its session (accounts/events.py).
            await self.start(SocketCredential(user, "session", group=session_group(session.session_key)))
        elif has_session_cookie(self.scope):
            await self.refuse(ERROR_NOT_AUTHENTICATED, "The session is not signed in.")
        else:
            self.credential_timer = asyncio.get_running_loop().call_later(
                AUTH_FRAME_SECONDS,
                lambda: spawn(self.refuse(ERROR_NOT_AUTHENTICATED, "No auth frame came in time."), name="auth-late"),
            )

    async def authenticate_token(self, token: str) -> SocketCredential:
        """The credential of a bearer token; accounts' mixin knows the tokens (stockchat/consumers.py)."""
        raise CredentialRefused("invalid_token", "This socket accepts no tokens.")

    async def sign_in_with_token(self, token: str) -> None:
        if not token:
            await self.refuse("malformed_token", "The Authorization header must be 'Bearer <token>'.")
            return
        try:
            credential = await self.authenticate_token(token)
        except CredentialRefused as exc:
            await self.refuse(exc.code, exc.detail)
            return
        if self.closing:  # the auth frame's deadline passed meanwhile
            return
        await self.start(credential)
        # A revocation that committed while the token was being checked told the token's group
        # before this socket followed it: check once more, now that it does.
        try:
            await self.authenticate_token(token)
        except CredentialRefused:
            await self._close(CLOSE_SIGNED_OUT)

    async def receive_auth_frame(self, text_data: str | None) -> None:
        """The first frame of a socket opened without credentials: ``{"type": "auth", "token": ...}``."""
        frame: Any = None
        if text_data is not None and len(text_data) <= MAX_FRAME_BYTES:
            try:
                frame = loads_json(text_data)
            except ServiceError:
                frame = None
        token = frame.get("token") if isinstance(frame, dict) and frame.get("type") == "auth" else None
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            await self.refuse(ERROR_NOT_AUTHENTICATED, 'The first frame must be {"type": "auth", "token": "..."}.')
            return
        await self.sign_in_with_token(token)

    async def start(self, credential: SocketCredential) -> None:
        if self.credential_timer is not None:
            self.credential_timer.cancel()
            self.credential_timer = None
        self.credential = credential
        self.user = user = credential.user
        self.followed: set[str] = set()
        self.rate = TokenBucket(rate=FRAME_RATE_PER_SECOND, burst=FRAME_BURST)
        self.outbox = Outbox(self._write, self._too_slow)
        self.send_frame({"type": "hello", "v": PROTOCOL_VERSION, "user": user.get_username()})
        await self.follow(user_group(user.pk))
        if credential.group is not None:
            await self.follow(credential.group)
        if credential.expires_at is not None:
            self.credential_timer = asyncio.get_running_loop().call_later(
                max(0.0, credential.expires_at - time.time()),
                lambda: spawn(self._close(CLOSE_UNAUTHENTICATED), name="socket-expired"),
            )

    async def refuse(self, code: str, detail: str) -> None:
        """Say why in an error frame, then close with 4401."""
        if self.closing:
            return
        self.closing = True
        if self.credential_timer is not None:
            self.credential_timer.cancel()
        await self.send(text_data=encode_frame({"type": "error", "code": code, "detail": detail}))
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # The consumer ended without its disconnect handler (something raised past the frame
            # handlers, or the task was cancelled): the server closes the socket (1011), and its
            # groups must go too, or the hub delivers to a dead socket until the process restarts.
            if not getattr(self, "disconnected", False):
                try:
                    await self.disconnect(CLOSE_INTERNAL_ERROR)
                except Exception:
                    logger.exception("could not release the groups of a failed socket")

    async def disconnect(self, code: int) -> None:
        self.disconnected = True
        timer = getattr(self, "credential_timer", None)
        if timer is not None:
            timer.cancel()
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
            # ... and only sockets opened with a session: a token stays valid across it.
            if "kinds" in command and self.credential.kind not in command["kinds"]:
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
        if self.user is None:
            await self.receive_auth_frame(text_data)
            return
        if bytes_data is not None:
            self.send_error(ERROR_BINARY, "Frames must be JSON text.")
            return
        assert text_data is not None
        if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode()) > MAX_FRAME_BYTES:
            self.send_error(ERROR_TOO_LARGE, f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
            return
        try:
            # Depth-checked before decoding: json.loads recurses once per level.
            frame = loads_json(text_data)
        except InputError as exc:
            detail = "Frame is not valid JSON." if exc.code == ERROR_MALFORMED_JSON else exc.detail
            self.send_error(exc.code, detail)
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            self.send_error(ERROR_MALFORMED, 'Frame must be a JSON object with a string "type".')
            return
        if _non_finite_number(frame):
            self.send_error(ERROR_MALFORMED, "Frame is not valid JSON (NaN or a number out of range).")
            return
        if find_forbidden_text(frame):
            # No text of any frame may hold NUL, other control characters or lone surrogates:
            # PostgreSQL refuses NUL, and a lone surrogate cannot even be sent back as UTF-8.
            self.send_error(ERROR_CONTROL_CHARACTER, "Frame text contains a control character, which is not allowed.")
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
        except Exception:
            # A bug or a failing dependency: one frame fails, the socket and its groups stay sound.
            logger.exception("socket frame %r of user %s failed", frame["type"][:64], self.user.pk)
            self.send_error(ERROR_INTERNAL, "The server could not carry out this frame.", frame)

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
