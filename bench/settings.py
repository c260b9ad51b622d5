"""Settings of the bench-only server (bench/asgi.py): the app's settings plus
the baselines' URL and channel layer. Never used by the app itself."""

from stockchat.settings import *  # noqa: F403
from stockchat.settings import CHANNEL_LAYERS, REDIS_URL

ROOT_URLCONF = "bench.urls"

# The Channels tutorial's layer: RedisChannelLayer with its default capacity.
CHANNEL_LAYERS = {
    **CHANNEL_LAYERS,
    "tutorial": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}]},
    },
}
