"""GraphQL subscriptions fed by the process's fan-out hub (``core.realtime.hub``).

A subscription is one more local subscriber of the hub: the process follows each
channel-layer group once, whatever the number of GraphQL and /ws/ subscribers,
and the hub encodes each frame once. ``HubStream`` decodes that text once per
event too (every subscriber of a group gets the same string object, see
``_decode``), so a quote reaching a thousand subscriptions is parsed once; only
each subscription's own selection set is rendered per subscriber. Decoding happens in
``deliver`` (while the hub hands one text to every subscriber in turn), not when each
subscriber gets round to reading it.

Like the socket's ``Outbox``, a stream never makes the hub wait: it queues, keeps
only the newest of latest-value frames (quotes), and ends with a ``too_slow``
error when its client cannot keep up; the client subscribes again and catches up
from the database (``afterSeq``), as after any reconnect.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from core.graphql.base import graphql_error
from core.realtime.groups import session_group, user_group
from core.realtime.hub import get_hub
from core.realtime.tasks import spawn

DEFAULT_LIMIT = 512

ERROR_TOO_SLOW = "too_slow"
ERROR_SIGNED_OUT = "signed_out"
ERROR_NOT_FOUND = "conversation_not_found"

_last_text: str | None = None
_last_frame: dict[str, Any] | None = None


def _decode(text: str) -> dict[str, Any]:
    """The frame ``text`` stands for; the hub hands the same string to every subscriber in turn."""
    global _last_text, _last_frame
    if text is not _last_text:
        _last_frame = json.loads(text)
        _last_text = text
    assert _last_frame is not None
    return _last_frame


class HubStream:
    """A hub subscriber that a subscription resolver iterates with ``async for``.

    Frames are shared between subscribers: treat them as read-only.
    """

    def __init__(self, *, limit: int = DEFAULT_LIMIT) -> None:
        self.groups: set[str] = set()
        self._limit = limit
        # Items are a frame, or a conflation key whose frame is in _latest.
        self._queue: deque[tuple[bool, Any]] = deque()
        self._latest: dict[str, dict[str, Any]] = {}
        self._wakeup = asyncio.Event()
        self._error: Exception | None = None
        self._closed = False

    async def follow(self, group: str) -> None:
        if group not in self.groups:
            self.groups.add(group)
            await get_hub().subscribe(group, self)

    async def follow_viewer(self, context: dict[str, Any], user) -> None:
        """Follow the groups that end the stream: the user's (deactivation, removals) and, on a
        socket signed in with a session, the session's (sign-out), as /ws/ sockets do."""
        await self.follow(user_group(user.pk))
        session_key = context.get("session_key")
        if session_key:
            await self.follow(session_group(session_key))

    async def close(self) -> None:
        self._closed = True
        groups, self.groups = self.groups, set()
        await get_hub().unsubscribe_all(self, groups)

    async def __aenter__(self) -> HubStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- what the hub calls ---------------------------------------------------------

    def deliver(self, text: str, conflate: str | None) -> None:
        if self._error is not None:
            return
        # Decoded here, while the hub hands the same text to every subscriber in turn.
        frame = _decode(text)
        if conflate is None:
            self._queue.append((False, frame))
        elif conflate in self._latest:
            self._latest[conflate] = frame
            return
        else:
            self._latest[conflate] = frame
            self._queue.append((True, conflate))
        if len(self._queue) > self._limit:
            self._end(graphql_error(ERROR_TOO_SLOW, "The subscription fell behind; subscribe again to catch up."))
            return
        self._wakeup.set()

    def control(self, command: dict[str, Any]) -> None:
        action = command.get("action")
        if action == "close":
            if not any(group in self.groups for group in command.get("keep", ())):
                self._end(graphql_error(ERROR_SIGNED_OUT, "Signed out.", status=401))
        elif action == "follow" and isinstance(command.get("group"), str):
            # The session's new key after a sign-in refresh: sign-out will name that one.
            spawn(self._follow_unless_closed(command["group"]), name="graphql-stream-follow")
        elif action == "leave" and command.get("group") in self.groups:
            # Removed from a conversation (or lost access to its stock): nothing more from it,
            # the same answer as for a conversation that does not exist.
            self._end(graphql_error(ERROR_NOT_FOUND, "No such conversation.", status=404))

    async def _follow_unless_closed(self, group: str) -> None:
        if not self._closed:
            await self.follow(group)

    def _end(self, error: Exception) -> None:
        self._error = error
        self._queue.clear()
        self._latest.clear()
        self._wakeup.set()

    # --- what the resolver reads ----------------------------------------------------

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._frames()

    async def _frames(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            while not self._queue and self._error is None:
                self._wakeup.clear()
                await self._wakeup.wait()
            if self._error is not None:
                raise self._error
            keyed, value = self._queue.popleft()
            yield self._latest.pop(value) if keyed else value
