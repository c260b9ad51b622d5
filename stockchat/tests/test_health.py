from datetime import timedelta

import pytest
from django.test import AsyncClient, Client
from django.utils import timezone

from testsupport.servers import free_port
from trading.models import MarketFeedLease

pytestmark = pytest.mark.django_db(transaction=True)


def redis_layer(url: str, backend: str = "channels_redis.pubsub.RedisPubSubChannelLayer") -> dict:
    return {"default": {"BACKEND": backend, "CONFIG": {"hosts": [{"address": url, "socket_timeout": None}]}}}


def dead_redis_layer() -> dict:
    # Nothing listens on this port: the Redis layer cannot connect.
    return redis_layer(f"redis://127.0.0.1:{free_port()}/0")


async def test_readyz_reports_database_channel_layer_and_feed():
    response = await AsyncClient().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"ok": True},
            "channel_layer": {"ok": True},
            "market_feed": {"ok": False, "renewed_seconds_ago": None},
        },
    }
    assert "no-cache" in response["Cache-Control"]


async def test_readyz_is_503_when_the_channel_layer_is_down(settings):
    settings.CHANNEL_LAYERS = dead_redis_layer()
    response = await AsyncClient().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["channel_layer"]["ok"] is False
    assert "127.0.0.1" not in response.content.decode()


def test_healthz_stays_200_while_redis_is_down_and_touches_no_database(settings, django_assert_num_queries):
    # The load balancer acts on /healthz by replacing targets: a Redis blip or a
    # database failover must not take every web task out at once.
    settings.CHANNEL_LAYERS = dead_redis_layer()
    with django_assert_num_queries(0):
        response = Client().get("/healthz", HTTP_HOST="10.0.3.17")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_reports_the_feed_lease_age_without_failing_on_it(settings):
    settings.STOCKCHAT_FEED_STALE_SECONDS = 60
    now = timezone.now()
    MarketFeedLease.objects.create(
        name="market-feed", holder="feed-1", expires_at=now + timedelta(seconds=5), renewed_at=now
    )
    fresh = Client().get("/readyz").json()["checks"]["market_feed"]
    assert fresh["ok"] is True
    assert 0 <= fresh["renewed_seconds_ago"] < 60
    MarketFeedLease.objects.update(renewed_at=now - timedelta(seconds=120))
    response = Client().get("/readyz")
    assert response.status_code == 200  # a stale feed does not make a web process unready
    assert response.json()["checks"]["market_feed"]["ok"] is False


@pytest.mark.parametrize(
    "backend", ["channels_redis.pubsub.RedisPubSubChannelLayer", "channels_redis.core.RedisChannelLayer"]
)
async def test_readyz_is_200_on_a_real_redis(settings, redis_url, backend):
    settings.CHANNEL_LAYERS = redis_layer(redis_url, backend)
    response = await AsyncClient().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["channel_layer"] == {"ok": True}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_health_endpoints_only_answer_get(path):
    response = await AsyncClient().post(path)
    assert response.status_code == 405
