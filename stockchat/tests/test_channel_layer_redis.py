"""The production channel layer against a real Redis."""

import asyncio

from channels_redis.core import RedisChannelLayer


async def test_send_receive_and_group_send_round_trip(redis_url):
    layer = RedisChannelLayer(hosts=[{"address": redis_url, "socket_timeout": None}], prefix="test")
    try:
        first = await layer.new_channel()
        second = await layer.new_channel()
        await layer.send(first, {"type": "direct.message", "n": 1})
        assert await asyncio.wait_for(layer.receive(first), 5) == {"type": "direct.message", "n": 1}

        await layer.group_add("price.ACME", first)
        await layer.group_add("price.ACME", second)
        await layer.group_send("price.ACME", {"type": "price.tick", "price": "12.34"})
        for channel in (first, second):
            assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "price.tick", "price": "12.34"}

        await layer.group_discard("price.ACME", second)
        await layer.group_send("price.ACME", {"type": "price.tick", "price": "12.35"})
        assert (await asyncio.wait_for(layer.receive(first), 5))["price"] == "12.35"
        # The discarded channel gets nothing more.
        receive_second = asyncio.ensure_future(layer.receive(second))
        done, _ = await asyncio.wait({receive_second}, timeout=0.5)
        assert not done
        receive_second.cancel()
    finally:
        await layer.flush()
        await layer.close_pools()
