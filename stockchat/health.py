"""Health checks for load balancers: is this process able to serve?"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


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


async def _run_check(name: str, check) -> dict[str, Any]:
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means "not healthy"; the log has the details
        logger.warning("health check %s failed: %r", name, exc)
        # Only the exception class is reported: messages can carry host names.
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


async def health_report() -> dict[str, Any]:
    database, channel_layer = await asyncio.gather(
        _run_check("database", sync_to_async(_database_roundtrip, thread_sensitive=True)),
        _run_check("channel_layer", _channel_layer_roundtrip),
    )
    checks = {"database": database, "channel_layer": channel_layer}
    healthy = all(check["ok"] for check in checks.values())
    return {"status": "ok" if healthy else "unavailable", "checks": checks}
