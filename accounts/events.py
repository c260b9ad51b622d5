"""Channel-layer groups and events about sign-in, sent only after a commit.

Every socket joins the group of its browser session and the group of its
user; a sign-out closes the session's sockets, a deactivation all of the
user's sockets.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from stockchat.realtime.groups import session_group, user_group
from stockchat.realtime.hub import hub_control
from stockchat.realtime.socket import CLOSE_SIGNED_OUT

REASON_SIGNED_OUT = "signed_out"
REASON_DEACTIVATED = "deactivated"


def close_command(reason: str) -> dict:
    """What every socket of the group is told: close with 4403, and why (for the logs)."""
    return {"action": "close", "code": CLOSE_SIGNED_OUT, "reason": reason}


def _send_close(group: str, reason: str) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, hub_control(group, close_command(reason)))


def sockets_close_for_session(session_key: str) -> None:
    transaction.on_commit(lambda: _send_close(session_group(session_key), REASON_SIGNED_OUT))


def sockets_close_for_user(user_id: int) -> None:
    transaction.on_commit(lambda: _send_close(user_group(user_id), REASON_DEACTIVATED))
