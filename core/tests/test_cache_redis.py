"""Django's cache on Redis: requests share the process's connections instead of opening their own."""

from __future__ import annotations

import asyncio
import threading

import redis
from django.core.cache import CacheHandler

from core.cache import redis_cache


def connections_received(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("stats")["total_connections_received"])
    finally:
        client.close()


def test_each_asgi_request_reuses_the_process_pool(redis_url):
    # Django keeps cache objects per thread and per asyncio context, so every ASGI
    # request (its own task, its own context) gets a new cache object.
    caches = CacheHandler({"default": redis_cache(redis_url)})

    used = []

    async def request(n: int) -> None:
        cache = caches["default"]
        used.append(cache)
        await asyncio.to_thread(cache.set, f"request-{n}", n)  # the rate limiter's sync path
        assert await asyncio.to_thread(cache.get, f"request-{n}") == n

    async def serve(count: int) -> None:
        for n in range(count):
            await asyncio.create_task(request(n))

    before = connections_received(redis_url)
    asyncio.run(serve(20))
    opened = connections_received(redis_url) - before - 1  # less the INFO client above

    assert len({id(cache) for cache in used}) == 20, "each context should have had its own cache object"
    assert opened <= 1, f"{opened} connections for 20 requests"


def test_threads_share_the_pool_too(redis_url):
    caches = CacheHandler({"default": redis_cache(redis_url)})
    before = connections_received(redis_url)

    def work(n: int) -> None:
        caches["default"].set(f"thread-{n}", n)

    for n in range(10):
        thread = threading.Thread(target=work, args=(n,))
        thread.start()
        thread.join()
    assert connections_received(redis_url) - before - 1 <= 1
