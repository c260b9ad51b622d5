"""Channel-layer groups and events about sign-in, sent only after a commit.

Every socket joins the group of its browser session and the group of its
user; a sign-out closes the session's sockets, a deactivation all of the
user's sockets.
"""

from __future__ import annotations

from stockchat.realtime.groups import session_group, user_group
from stockchat.realtime.hub import hub_control
from stockchat.realtime.publish import publish_on_commit
from stockchat.realtime.socket import CLOSE_SIGNED_OUT

REASON_SIGNED_OUT = "signed_out"
REASON_DEACTIVATED = "deactivated"


def close_command(reason: str) -> dict:
    """What every socket of the group is told: close with 4403, and why (for the logs)."""
    return {"action": "close", "code": CLOSE_SIGNED_OUT, "reason": reason}


def sockets_close_for_session(session_key: str) -> None:
    publish_on_commit(hub_control(session_group(session_key), close_command(REASON_SIGNED_OUT)))


def sockets_close_for_user(user_id: int) -> None:
    publish_on_commit(hub_control(user_group(user_id), close_command(REASON_DEACTIVATED)))
