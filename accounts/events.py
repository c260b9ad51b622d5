"""Channel-layer groups and events about sign-in, sent only after a commit.

Every socket joins the group of its browser session and the group of its
user; a sign-out closes the session's sockets, a deactivation all of the
user's sockets.
"""

from __future__ import annotations

import hashlib

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

EVENT_SOCKET_CLOSE = "auth.close"
REASON_SIGNED_OUT = "signed_out"
REASON_DEACTIVATED = "deactivated"


def session_group(session_key: str) -> str:
    # Hashed: the session key is a credential and group names end up in Redis keys.
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def _send_close(group: str, reason: str) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, {"type": EVENT_SOCKET_CLOSE, "v": 1, "reason": reason})


def sockets_close_for_session(session_key: str) -> None:
    transaction.on_commit(lambda: _send_close(session_group(session_key), REASON_SIGNED_OUT))


def sockets_close_for_user(user_id: int) -> None:
    transaction.on_commit(lambda: _send_close(user_group(user_id), REASON_DEACTIVATED))
