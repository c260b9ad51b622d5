"""The production channel layer configuration (see settings.py for why pub/sub)."""

from __future__ import annotations

from typing import Any


def redis_channel_layer(url: str, *, max_connections: int) -> dict[str, Any]:
    # The host is a dict so the redis 8 client gets no socket timeout (an idle
    # subscriber would otherwise die after 5 s) and a pool large enough for
    # bursts of WebSocket handshakes.
    return {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [{"address": url, "socket_timeout": None, "max_connections": max_connections}],
            "prefix": "stockchat",
        },
    }
