"""A bounded send buffer for one WebSocket, written by its own task.

The fan-out hub must never wait for one socket: it calls ``deliver()``, which
only queues. A writer task per socket drains the queue in order. Frames with a
``conflate`` key (prices) keep only their newest value while waiting, so a burst
of ticks for one symbol costs a slow client one frame. A socket whose queue
still overflows is closed (``on_overflow``); its client reconnects and resumes
from the database, which is cheaper for everyone than buffering without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from core.realtime.tasks import spawn

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 512


class Outbox:
    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        on_overflow: Callable[[], Awaitable[None]],
        *,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        self._send = send
        self._on_overflow = on_overflow
        self._limit = limit
        # Items are a frame's text, or a conflation key whose text is in _latest.
        self._queue: deque[tuple[bool, str]] = deque()
        self._latest: dict[str, str] = {}
        self._wakeup = asyncio.Event()
        # Set while nothing is queued or being written: what flush() waits for.
        self._idle = asyncio.Event()
        self._idle.set()
        self._overflowed = False
        self._task = asyncio.create_task(self._write_forever(), name="outbox-writer")

    def __len__(self) -> int:
        return len(self._queue)

    def deliver(self, text: str, conflate: str | None = None) -> None:
        if self._overflowed:
            return
        if conflate is None:
            self._queue.append((False, text))
        elif conflate in self._latest:
            self._latest[conflate] = text  # replaces the unsent older value in place
            return
        else:
            self._latest[conflate] = text
            self._queue.append((True, conflate))
        if len(self._queue) > self._limit:
            self._overflowed = True
            self._queue.clear()
            self._latest.clear()
            spawn(self._on_overflow(), name="outbox-overflow")
            return
        self._idle.clear()
        self._wakeup.set()

    async def _write_forever(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                keyed, value = self._queue.popleft()
                text = self._latest.pop(value) if keyed else value
                try:
                    await self._send(text)
                except Exception:
                    # The socket is gone; its consumer's disconnect handler closes this outbox.
                    logger.debug("outbox send failed", exc_info=True)
                    self._queue.clear()
                    self._latest.clear()
                    break
            self._idle.set()

    async def flush(self) -> None:
        """Wait until every frame queued so far has been written (or the socket has failed)."""
        await self._idle.wait()

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
