"""Channel-layer groups and events about sign-in, sent only after a commit.

Every socket joins the group of its user and the group of what it was opened
with: its browser session or its personal API token. A sign-out closes the
session's sockets, a token's revocation that token's sockets, a deactivation
all of the user's sockets; a password reset closes all of the user's
session sockets, and a password change all of them except those of the
session that made the change (a token stays valid across both, and so do its
sockets).
"""

from __future__ import annotations

from core.realtime.groups import api_token_group, session_group, user_group
from core.realtime.hub import hub_control
from core.realtime.publish import publish_on_commit
from core.realtime.socket import CLOSE_SIGNED_OUT

REASON_SIGNED_OUT = "signed_out"
REASON_DEACTIVATED = "deactivated"
REASON_PASSWORD_CHANGED = "password_changed"  # noqa: S105 (a close reason, not a secret)
REASON_PASSWORD_RESET = "password_reset"  # noqa: S105 (a close reason, not a secret)
REASON_TOKEN_REVOKED = "token_revoked"  # noqa: S105 (a close reason, not a secret)
SESSION_SOCKETS_ONLY = ["session"]


def close_command(reason: str, *, keep: list[str] | None = None, kinds: list[str] | None = None) -> dict:
    """What every socket of the group is told: close with 4403, and why (for the logs).

    A socket that follows one of the ``keep`` groups stays open, and so does one
    opened with a credential whose kind is not in ``kinds`` (when given).
    """
    command: dict = {"action": "close", "code": CLOSE_SIGNED_OUT, "reason": reason}
    if keep:
        command["keep"] = keep
    if kinds is not None:
        command["kinds"] = kinds
    return command


def sockets_close_for_session(session_key: str) -> None:
    publish_on_commit(hub_control(session_group(session_key), close_command(REASON_SIGNED_OUT)))


def sockets_close_for_api_token(token_id: int) -> None:
    publish_on_commit(hub_control(api_token_group(token_id), close_command(REASON_TOKEN_REVOKED)))


def sockets_close_for_user(
    user_id: int, reason: str = REASON_DEACTIVATED, *, keep_session_key: str = "", sessions_only: bool = False
) -> None:
    """Close the user's sockets (with ``sessions_only``, those opened with a browser session)."""
    keep = [session_group(keep_session_key)] if keep_session_key else None
    kinds = SESSION_SOCKETS_ONLY if sessions_only else None
    publish_on_commit(hub_control(user_group(user_id), close_command(reason, keep=keep, kinds=kinds)))


def sockets_follow_new_session_key(old_key: str, new_key: str) -> None:
    """The session's open sockets follow its new key's group too, so that signing out still closes them."""
    publish_on_commit(hub_control(session_group(old_key), {"action": "follow", "group": session_group(new_key)}))
