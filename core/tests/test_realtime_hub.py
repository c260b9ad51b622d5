"""The per-process fan-out hub and the per-socket outbox, on the in-memory layer and on real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from redis.exceptions import ConnectionError as RedisConnectionError

from core.channel_layers import redis_channel_layer
from core.realtime.hub import FanoutHub, hub_event
from core.realtime.outbox import Outbox


class Recorder:
    """A socket stand-in that records what the hub hands it."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, str | None]] = []
        self.arrived = asyncio.Event()

    def deliver(self, text: str, conflate: str | None) -> None:
        self.frames.append((text, conflate))
        self.arrived.set()

    async def wait_for(self, count: int) -> list[dict]:
        while len(self.frames) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 5)
        return [json.loads(text) for text, _ in self.frames]


def make_layer(kind: str, redis_url: str | None):
    if kind == "memory":
        return InMemoryChannelLayer()
    if kind == "redis":
        return RedisChannelLayer(hosts=[{"address": redis_url, "socket_timeout": None}])
    return RedisPubSubChannelLayer(hosts=[{"address": redis_url}])


@pytest.fixture(params=["memory", "redis", "redis-pubsub"])
async def layer(request):
    redis_url = request.getfixturevalue("redis_url") if request.param != "memory" else None
    layer = make_layer(request.param, redis_url)
    yield layer
    if hasattr(layer, "flush"):
        await layer.flush()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()


async def test_one_event_reaches_every_local_subscriber_of_its_group_only(layer):
    hub = FanoutHub(layer)
    acme_a, acme_b, other = Recorder(), Recorder(), Recorder()
    await hub.subscribe("price.ACME", acme_a)
    await hub.subscribe("price.ACME", acme_b)
    await hub.subscribe("price.OTHR", other)

    await layer.group_send("price.ACME", hub_event("price.ACME", {"type": "quote", "price": "1.50"}))
    await layer.group_send("price.OTHR", hub_event("price.OTHR", {"type": "quote", "price": "9.00"}))

    assert await acme_a.wait_for(1) == [{"type": "quote", "price": "1.50"}]
    assert await acme_b.wait_for(1) == [{"type": "quote", "price": "1.50"}]
    assert await other.wait_for(1) == [{"type": "quote", "price": "9.00"}]
    # One channel for the whole process, whatever the number of sockets.
    assert hub.local_subscribers("price.ACME") == 2
    await hub.close()


async def test_last_local_unsubscribe_leaves_the_group(layer):
    hub = FanoutHub(layer)
    stays, leaves = Recorder(), Recorder()
    await hub.subscribe("conversation.1", stays)
    await hub.subscribe("conversation.1", leaves)
    await hub.unsubscribe("conversation.1", leaves)
    await layer.group_send("conversation.1", hub_event("conversation.1", {"n": 1}))
    assert await stays.wait_for(1) == [{"n": 1}]
    assert leaves.frames == []

    await hub.unsubscribe("conversation.1", stays)
    assert hub.local_subscribers("conversation.1") == 0
    # The process left the group: a later event is not delivered to its channel.
    await hub.subscribe("conversation.2", stays)
    await layer.group_send("conversation.1", hub_event("conversation.1", {"n": 2}))
    await layer.group_send("conversation.2", hub_event("conversation.2", {"n": 3}))
    assert await stays.wait_for(2) == [{"n": 1}, {"n": 3}]
    await hub.close()


def test_dispatch_encodes_once_and_passes_the_conflation_key():
    hub = FanoutHub(InMemoryChannelLayer())
    first, second = Recorder(), Recorder()
    hub._groups["price.ACME"] = {first, second}
    delivered = hub.dispatch(hub_event("price.ACME", {"type": "quote", "p": "1"}, conflate="price.ACME"))
    assert delivered == 2
    assert first.frames == second.frames == [('{"type":"quote","p":"1"}', "price.ACME")]
    assert first.frames[0][0] is second.frames[0][0]  # the same string object: encoded once
    assert hub.dispatch({"type": "something.else", "group": "price.ACME"}) == 0


async def test_outbox_writes_in_order():
    sent: list[str] = []
    done = asyncio.Event()

    async def send(text: str) -> None:
        sent.append(text)
        if len(sent) == 3:
            done.set()

    async def overflow() -> None:
        raise AssertionError("no overflow expected")

    outbox = Outbox(send, overflow, limit=10)
    for text in ("a", "b", "c"):
        outbox.deliver(text)
    await asyncio.wait_for(done.wait(), 5)
    assert sent == ["a", "b", "c"]
    await outbox.close()


async def test_outbox_conflates_prices_for_a_slow_socket_and_keeps_other_frames():
    release = asyncio.Event()
    sent: list[str] = []
    finished = asyncio.Event()

    async def slow_send(text: str) -> None:
        await release.wait()
        sent.append(text)
        if text == "chat-2":
            finished.set()

    async def overflow() -> None:
        raise AssertionError("no overflow expected")

    outbox = Outbox(slow_send, overflow, limit=10)
    outbox.deliver("tick-1", "price.ACME")
    await asyncio.sleep(0)  # the writer takes tick-1 and blocks in send
    for n in range(2, 50):
        outbox.deliver(f"tick-{n}", "price.ACME")
    outbox.deliver("chat-1")
    outbox.deliver("other-1", "price.OTHR")
    outbox.deliver("tick-50", "price.ACME")  # still conflated into the waiting ACME slot
    outbox.deliver("chat-2")
    assert len(outbox) == 4
    release.set()
    await asyncio.wait_for(finished.wait(), 5)
    assert sent == ["tick-1", "tick-50", "chat-1", "other-1", "chat-2"]
    await outbox.close()


async def test_outbox_flush_waits_until_every_queued_frame_is_written():
    release = asyncio.Event()
    sent: list[str] = []

    async def slow_send(text: str) -> None:
        await release.wait()
        sent.append(text)

    async def overflow() -> None:
        raise AssertionError("no overflow expected")

    outbox = Outbox(slow_send, overflow, limit=10)
    await asyncio.wait_for(outbox.flush(), 5)  # nothing queued: returns at once
    for text in ("a", "b", "c"):
        outbox.deliver(text)
    flushed = asyncio.create_task(outbox.flush())
    await asyncio.sleep(0)  # the writer takes "a" and blocks in send
    assert not flushed.done()
    release.set()
    await asyncio.wait_for(flushed, 5)
    assert sent == ["a", "b", "c"]
    await outbox.close()


class Draining(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.drained = 0

    async def drain(self) -> None:
        await asyncio.sleep(0)
        self.drained += 1


async def test_draining_the_hub_drains_each_local_socket_once():
    hub = FanoutHub(InMemoryChannelLayer())
    two_groups, one_group = Draining(), Draining()
    await hub.subscribe("user.1", two_groups)
    await hub.subscribe("session.a", two_groups)
    await hub.subscribe("user.2", one_group)
    assert await hub.drain_sockets() == 2
    assert (two_groups.drained, one_group.drained) == (1, 1)
    await hub.close()


async def test_outbox_overflow_closes_instead_of_buffering_without_bound():
    never = asyncio.Event()
    overflowed = asyncio.Event()

    async def stuck_send(text: str) -> None:
        await never.wait()

    async def overflow() -> None:
        overflowed.set()

    outbox = Outbox(stuck_send, overflow, limit=5)
    for n in range(7):
        outbox.deliver(f"chat-{n}")
    await asyncio.wait_for(overflowed.wait(), 5)
    assert len(outbox) == 0
    outbox.deliver("after")  # ignored once overflowed
    assert len(outbox) == 0
    await outbox.close()


async def test_an_idle_subscription_survives_longer_than_the_redis_client_timeout(redis_url):
    # redis 8 gives sockets a 5 s timeout by default and an idle subscriber then
    # dies; the production configuration turns that timeout off. The test waits
    # on purpose: the failure it guards against appears only after 5 idle seconds.
    config = redis_channel_layer(redis_url, max_connections=10)
    layer = RedisPubSubChannelLayer(**config["CONFIG"])
    hub = FanoutHub(layer)
    recorder = Recorder()
    await hub.subscribe("price.IDLE", recorder)
    await asyncio.sleep(6)
    await layer.group_send("price.IDLE", hub_event("price.IDLE", {"n": 1}))
    assert await recorder.wait_for(1) == [{"n": 1}]
    await hub.close()
    await layer.flush()


async def test_the_hub_follows_its_groups_again_after_redis_restarts(redis_server, redis_url):
    # channels-redis's pub/sub layer does not subscribe again after Redis comes back;
    # the hub notices that its probe did not return and subscribes anew.
    config = redis_channel_layer(redis_url, max_connections=10)
    layer = RedisPubSubChannelLayer(**config["CONFIG"])
    publisher = RedisPubSubChannelLayer(**config["CONFIG"])
    hub = FanoutHub(layer, probe_interval=0.2)
    recorder = Recorder()
    await hub.subscribe("conversation.7", recorder)
    await publisher.group_send("conversation.7", hub_event("conversation.7", {"n": 0}))
    assert await recorder.wait_for(1) == [{"n": 0}]

    # Down long enough for the layer's own reconnect attempt to fail, which it never repeats.
    redis_server.stop(remove=False)
    await asyncio.wait_for(hub.unsubscribed.wait(), 20)
    await asyncio.to_thread(redis_server.start)
    # Publish until one arrives: events sent before the hub subscribes again are lost.
    async with asyncio.timeout(20):
        n = 0
        while len(recorder.frames) < 2:
            n += 1
            recorder.arrived.clear()
            # The publisher's pooled connection also died with the server: its first send fails.
            with contextlib.suppress(RedisConnectionError):
                await publisher.group_send("conversation.7", hub_event("conversation.7", {"n": n}))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(recorder.arrived.wait(), 0.5)
    assert hub.resubscriptions >= 1
    assert json.loads(recorder.frames[-1][0])["n"] == n
    await hub.close()
    await layer.flush()
    await publisher.flush()
