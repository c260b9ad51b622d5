"""Per-process fan-out of channel-layer events to the WebSockets of this process.

The Channels tutorial gives every socket its own channel and adds it to every
group it follows, so a group message costs one channel-layer delivery, one
decode and one consumer dispatch (with a thread hop) per socket. Here each
process subscribes once per group with a single channel, decodes each event
once, encodes its frame once, and hands the same text to every local socket's
``Outbox``. See docs/realtime.md for the measurements behind this.

Events sent to a group must carry the group name and the frame to forward::

    {"type": "hub.event", "group": "price.ACME", "frame": {...}, "conflate": "price.ACME"}

``conflate`` (optional) marks latest-value frames: a socket that has not yet
written an older frame with the same key gets only the newest one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from typing import Any, Protocol

from channels.layers import BaseChannelLayer, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer

from core.realtime.tasks import spawn

logger = logging.getLogger(__name__)

EVENT_TYPE = "hub.event"
# Re-announce group membership well before channels-redis forgets it (group_expiry, 1 day).
MEMBERSHIP_REFRESH_SECONDS = 3600.0
# On the Redis pub/sub layer the hub sends itself a probe this often; one that does
# not come back by the next probe means the subscription is gone (Redis restarted:
# channels-redis's pub/sub layer does not subscribe again by itself), and the hub
# subscribes anew.
PROBE_TYPE = "hub.probe"
PROBE_INTERVAL_SECONDS = 5.0


def hub_event(group: str, frame: dict[str, Any], *, conflate: str | None = None) -> dict[str, Any]:
    """The channel-layer message that delivers ``frame`` to the sockets following ``group``."""
    event: dict[str, Any] = {"type": EVENT_TYPE, "group": group, "frame": frame}
    if conflate is not None:
        event["conflate"] = conflate
    return event


def hub_control(group: str, command: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message that gives ``command`` to every socket following ``group``.

    Commands act on the socket rather than being forwarded to the client: ``{"action": "close",
    "code": 4403}`` closes it (sign-out) unless it follows one of the groups in an optional
    ``"keep"`` list, ``{"action": "follow", "group": "..."}`` makes it follow another group too (a
    session's new key), ``{"action": "leave", "group": "..."}`` stops following a group (removed
    from a conversation, lost access to a stock).
    """
    return {"type": EVENT_TYPE, "group": group, "control": command}


def encode_frame(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


class Subscriber(Protocol):
    def deliver(self, text: str, conflate: str | None) -> None:
        """Queue ``text`` for the socket without waiting; never raises for a slow socket."""

    def control(self, command: dict[str, Any]) -> None:
        """Act on a command addressed to the socket itself (close, leave a group), without waiting."""

    async def drain(self) -> None:
        """Stop taking events and wait until what is queued for the socket is written."""


class FanoutHub:
    """Follows channel-layer groups on behalf of local sockets; one per event loop."""

    def __init__(self, layer: BaseChannelLayer, *, probe_interval: float | None = None) -> None:
        self.layer = layer
        self.channel: str | None = None
        self._groups: dict[str, set[Subscriber]] = {}
        self._membership_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self._reader: asyncio.Task | None = None
        # Only the pub/sub layer loses subscriptions for good; flushing the in-memory layer
        # would drop queued events, and flushing the core Redis layer would empty Redis for
        # every process.
        if probe_interval is None and isinstance(layer, RedisPubSubChannelLayer):
            probe_interval = PROBE_INTERVAL_SECONDS
        self._probe_interval = probe_interval
        self._probe_pending = False
        self.delivered = 0
        self.resubscriptions = 0
        # Set while the hub knows it follows nothing and cannot subscribe again yet.
        self.unsubscribed = asyncio.Event()

    async def _ensure_started(self) -> None:
        if self.channel is not None:
            return
        self.channel = await self.layer.new_channel("hub.")
        self._reader = asyncio.create_task(self._read_forever(), name="fanout-hub-reader")
        self._tasks = [asyncio.create_task(self._refresh_forever(), name="fanout-hub-refresh")]
        if self._probe_interval is not None:
            self._tasks.append(asyncio.create_task(self._watch_forever(), name="fanout-hub-watch"))

    async def subscribe(self, group: str, subscriber: Subscriber) -> None:
        # Membership changes are serialised: a group_discard racing a group_add
        # for the same group could otherwise leave the process unsubscribed.
        async with self._membership_lock:
            await self._ensure_started()
            members = self._groups.get(group)
            if members is None:
                await self.layer.group_add(group, self.channel)
                members = self._groups[group] = set()
            members.add(subscriber)

    async def unsubscribe(self, group: str, subscriber: Subscriber) -> None:
        async with self._membership_lock:
            members = self._groups.get(group)
            if members is None or subscriber not in members:
                return
            members.discard(subscriber)
            if not members:
                del self._groups[group]
                await self.layer.group_discard(group, self.channel)

    async def unsubscribe_all(self, subscriber: Subscriber, groups: set[str]) -> None:
        for group in list(groups):
            await self.unsubscribe(group, subscriber)

    def local_subscribers(self, group: str) -> int:
        return len(self._groups.get(group, ()))

    def group_sizes(self) -> dict[str, int]:
        """Every group the process follows and its number of local sockets (empty when idle)."""
        return {group: len(members) for group, members in self._groups.items()}

    def subscribers(self) -> set[Subscriber]:
        """Every local socket that follows at least one group (every open socket of the process)."""
        return set().union(*self._groups.values())

    async def drain_sockets(self) -> int:
        """Drain every local socket (see ``Subscriber.drain``); returns how many. The caller bounds the wait.

        For a process that is stopping, before it closes its sockets (1012, service restart):
        each socket first gets what was already on its way to it.
        """
        sockets = self.subscribers()
        results = await asyncio.gather(*(socket.drain() for socket in sockets), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                logger.warning("fan-out hub could not drain a socket", exc_info=result)
        return len(sockets)

    def dispatch(self, message: dict[str, Any]) -> int:
        """Hand one event to every local subscriber of its group; returns how many got it."""
        if message.get("type") != EVENT_TYPE:
            logger.warning("fan-out hub ignored a message of type %r", message.get("type"))
            return 0
        members = self._groups.get(message.get("group", ""))
        if not members:
            return 0
        command = message.get("control")
        if command is not None:
            for subscriber in tuple(members):
                subscriber.control(command)
            return len(members)
        text = encode_frame(message["frame"])
        conflate = message.get("conflate")
        # A copy: a subscriber may leave the group from inside deliver().
        for subscriber in tuple(members):
            subscriber.deliver(text, conflate)
        self.delivered += len(members)
        return len(members)

    async def _read_forever(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A broken connection to Redis: wait and go on; the layer reconnects.
                # Sockets recover what they missed from the database when they resume.
                logger.exception("fan-out hub could not read from the channel layer")
                await asyncio.sleep(1.0)
                continue
            if message.get("type") == PROBE_TYPE:
                self._probe_pending = False
                continue
            try:
                self.dispatch(message)
            except Exception:
                logger.exception("fan-out hub could not dispatch %r", message.get("type"))

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(MEMBERSHIP_REFRESH_SECONDS)
            async with self._membership_lock:
                groups = list(self._groups)
            for group in groups:
                try:
                    await self.layer.group_add(group, self.channel)
                except Exception:
                    logger.exception("fan-out hub could not refresh group %s", group)

    async def _watch_forever(self) -> None:
        broken = False
        while True:
            await asyncio.sleep(self._probe_interval)
            if broken or self._probe_pending:
                broken = not await self._subscribe_again()
                if broken:
                    continue
            self._probe_pending = True
            try:
                await self.layer.send(self.channel, {"type": PROBE_TYPE})
            except Exception:
                # Redis is down; the probe stays pending and the next round subscribes again.
                logger.warning("fan-out hub could not probe the channel layer", exc_info=True)

    async def _subscribe_again(self) -> bool:
        """Drop the layer's connections and follow every group again on a new channel.

        Events sent while the subscription was gone are lost; clients recover them from the
        database (chat.resume, the REST API) as they do after a reconnect.
        """
        logger.warning("fan-out hub lost its channel-layer subscription; subscribing again")
        async with self._membership_lock:
            if self._reader is not None:
                self._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._reader
                self._reader = None
            try:
                flush = getattr(self.layer, "flush", None)
                if flush is not None:
                    await flush()
                self.channel = await self.layer.new_channel("hub.")
                for group in self._groups:
                    await self.layer.group_add(group, self.channel)
            except Exception:
                logger.warning("fan-out hub could not subscribe again yet", exc_info=True)
                self.unsubscribed.set()
                return False
            finally:
                if self.channel is not None:
                    self._reader = asyncio.create_task(self._read_forever(), name="fanout-hub-reader")
            self._probe_pending = False
            self.unsubscribed.clear()
            self.resubscriptions += 1
            return True

    async def close(self) -> None:
        tasks = [*self._tasks, *([self._reader] if self._reader is not None else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._reader = None


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, FanoutHub] = weakref.WeakKeyDictionary()


async def drain_sockets() -> int:
    """Drain the sockets of the running event loop's hub, if it has one (see ``FanoutHub.drain_sockets``)."""
    hub = _hubs.get(asyncio.get_running_loop())
    if hub is None:
        return 0
    return await hub.drain_sockets()


def get_hub() -> FanoutHub:
    """The hub of the running event loop (one per process under daphne or uvicorn)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    layer = get_channel_layer()
    if hub is None or hub.layer is not layer:
        # A new layer appears when CHANNEL_LAYERS changes (tests) or after a reset.
        if hub is not None:
            spawn(hub.close(), name="fanout-hub-close")
        hub = _hubs[loop] = FanoutHub(layer)
    return hub
