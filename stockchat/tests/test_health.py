import pytest
from django.test import AsyncClient

from testsupport.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def redis_layer(url: str, backend: str = "channels_redis.pubsub.RedisPubSubChannelLayer") -> dict:
    return {"default": {"BACKEND": backend, "CONFIG": {"hosts": [{"address": url, "socket_timeout": None}]}}}


async def test_healthz_reports_database_and_channel_layer():
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True}, "channel_layer": {"ok": True}},
    }
    assert "no-cache" in response["Cache-Control"]


async def test_healthz_is_503_when_the_channel_layer_is_down(settings):
    # Nothing listens on this port: the Redis layer cannot connect.
    settings.CHANNEL_LAYERS = redis_layer(f"redis://127.0.0.1:{free_port()}/0")
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["channel_layer"]["ok"] is False
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.parametrize(
    "backend", ["channels_redis.pubsub.RedisPubSubChannelLayer", "channels_redis.core.RedisChannelLayer"]
)
async def test_healthz_is_200_on_a_real_redis(settings, redis_url, backend):
    settings.CHANNEL_LAYERS = redis_layer(redis_url, backend)
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["channel_layer"] == {"ok": True}


async def test_healthz_only_answers_get():
    response = await AsyncClient().post("/healthz")
    assert response.status_code == 405
