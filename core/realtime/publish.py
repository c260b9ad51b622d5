"""Sending hub messages after the transaction that caused them commits.

Every app's ``events.py`` goes through ``publish_on_commit``, so an event never
announces a change that was rolled back, and a channel-layer outage never fails
the request that made the change: the change is committed and readable, and
clients recover what they missed live by reading it (REST API, ``chat.resume``).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def publish(message: dict[str, Any]) -> None:
    """Send a ``hub_event`` or ``hub_control`` message to its group now."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(message["group"], message)
    except Exception:
        logger.exception("could not publish to %s", message["group"])


def publish_many(messages: list[dict[str, Any]]) -> None:
    """Send several messages in order with one hop to the event loop (a feed tick's quotes)."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def send_all() -> None:
        for message in messages:
            try:
                await layer.group_send(message["group"], message)
            except Exception:
                logger.exception("could not publish to %s", message["group"])

    async_to_sync(send_all)()


def publish_on_commit(message: dict[str, Any]) -> None:
    transaction.on_commit(lambda: publish(message))


def publish_many_on_commit(messages: list[dict[str, Any]]) -> None:
    transaction.on_commit(lambda: publish_many(messages))
