"""One Redis connection pool per process for Django's cache.

Django keeps its cache objects per thread and per asyncio context, so under
ASGI every request builds a new ``RedisCache``, and with it a new
``ConnectionPool``: each request (each rate-limit check) opened a fresh TCP
connection to Redis and left it to the garbage collector. ``SharedConnectionPool``
is given to the cache as its ``pool_class``; its ``from_url`` returns the pool
already made for the same URL and options, so requests reuse open connections.
redis-py's pool is thread-safe and resets itself in a forked child.
"""

from __future__ import annotations

import threading
from typing import Any

import redis


class SharedConnectionPool(redis.ConnectionPool):
    _pools: dict[tuple[str, str], redis.ConnectionPool] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.ConnectionPool:
        key = (url, repr(sorted(kwargs.items(), key=lambda item: item[0])))
        with cls._lock:
            pool = cls._pools.get(key)
            if pool is None:
                pool = cls._pools[key] = super().from_url(url, **kwargs)
            return pool


def redis_cache(url: str) -> dict[str, Any]:
    """``CACHES["default"]`` on Redis, sharing one connection pool per process."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "stockchat",
        "OPTIONS": {"pool_class": "core.cache.SharedConnectionPool"},
    }
