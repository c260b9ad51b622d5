"""Health endpoints: liveness for load balancers and container checks, readiness for operators.

``/healthz`` (liveness) answers 200 as long as the process can run a request,
and touches nothing else. A load balancer and a container health check act on
it by replacing targets: if it checked PostgreSQL or Redis, an RDS failover or
a Redis blip would mark every web task unhealthy at once, ECS would replace all
of them and every socket would drop, while the fault lies elsewhere and passes
by itself. ``/readyz`` (readiness) checks PostgreSQL and the channel layer
(Redis) for operators and dashboards, and reports how fresh the market feed's
lease is; nothing replaces a process because of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.utils import timezone

from trading.models import MarketFeedLease

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


def liveness_report() -> dict[str, Any]:
    """The process answers: no database, no Redis (see the module docstring for why)."""
    return {"status": "ok"}


def _database_roundtrip() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _channel_layer_roundtrip() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel("healthz.")
    await layer.send(channel, {"type": "healthz.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "healthz.ping":
        raise RuntimeError("channel layer returned a different message")


def _market_feed_lease() -> dict[str, Any]:
    renewed_at = MarketFeedLease.objects.values_list("renewed_at", flat=True).first()
    if renewed_at is None:
        return {"ok": False, "renewed_seconds_ago": None}
    age = (timezone.now() - renewed_at).total_seconds()
    return {"ok": age <= settings.STOCKCHAT_FEED_STALE_SECONDS, "renewed_seconds_ago": round(age, 1)}


async def _run_check(name: str, check: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    try:
        detail = await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means "not ready"; the log has the details
        logger.warning("readiness check %s failed: %r", name, exc)
        # Only the exception class is reported: messages can carry host names.
        return {"ok": False, "error": type(exc).__name__}
    return detail if isinstance(detail, dict) else {"ok": True}


async def readiness_report() -> dict[str, Any]:
    """PostgreSQL and Redis decide the status; the feed's lease is reported beside them.

    A stale feed does not make a web process unready (it still serves pages,
    orders and chat); the feed's own container health check restarts it.
    """
    database, channel_layer, market_feed = await asyncio.gather(
        _run_check("database", sync_to_async(_database_roundtrip, thread_sensitive=True)),
        _run_check("channel_layer", _channel_layer_roundtrip),
        _run_check("market_feed", sync_to_async(_market_feed_lease, thread_sensitive=True)),
    )
    ready = database["ok"] and channel_layer["ok"]
    return {
        "status": "ok" if ready else "unavailable",
        "checks": {"database": database, "channel_layer": channel_layer, "market_feed": market_feed},
    }
