"""Chat events: group names and payloads, sent through the fan-out hub.

Durable events (messages, conversations, members, read markers) are scheduled
by services with ``transaction.on_commit``, so nothing is announced that was
rolled back, and every message was saved before anyone hears of it. Typing and
presence are ephemeral: sent by the socket consumer straight to the hub,
never stored.

Message frames go to ``conversation.<id>``, which only sockets of members
follow (the consumer checks membership before following, and a removed
member's sockets are told to leave the group on commit). Frames for one
user go to ``user.<id>``, which every socket of that user follows.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from channels.layers import get_channel_layer

from core.realtime.groups import user_group
from core.realtime.hub import hub_control, hub_event
from core.realtime.publish import publish_on_commit

if TYPE_CHECKING:
    from chat.models import Conversation

log = logging.getLogger(__name__)

EVENT_VERSION = 1

MESSAGE_CREATED = "chat.message.created"
MESSAGE_EDITED = "chat.message.edited"
MESSAGE_DELETED = "chat.message.deleted"
MESSAGE_REACTIONS = "chat.message.reactions"
CONVERSATION_ADDED = "chat.conversation.added"
CONVERSATION_REMOVED = "chat.conversation.removed"
MEMBER_JOINED = "chat.member.joined"
MEMBER_LEFT = "chat.member.left"
READ_UPDATED = "chat.read.updated"
TYPING = "chat.typing"
PRESENCE = "chat.presence"


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def message_changed(kind: str, message: dict[str, Any]) -> None:
    """``message`` is the serialized message (``chat.selectors.message_data``)."""
    group = conversation_group(message["conversation_id"])
    publish_on_commit(hub_event(group, {"type": kind, "v": EVENT_VERSION, "message": message}))


def message_reactions_changed(
    *,
    conversation_id: int,
    message_id: int,
    reactions: list[dict[str, Any]],
    user: dict[str, Any],
    reaction: str,
    on: bool,
) -> None:
    """The message's full reaction counts after ``user`` set (``on``) or cleared ``reaction``:
    a client replaces what it shows, so a frame seen twice or late changes nothing."""
    frame = {
        "type": MESSAGE_REACTIONS,
        "v": EVENT_VERSION,
        "conversation_id": conversation_id,
        "message_id": message_id,
        "reactions": reactions,
        "user": user,
        "reaction": reaction,
        "on": on,
    }
    publish_on_commit(hub_event(conversation_group(conversation_id), frame))


def conversation_added(conversation: dict[str, Any], *, user_ids: list[int]) -> None:
    """Tell ``user_ids`` they are now members of ``conversation`` (a brief, no messages)."""
    for user_id in user_ids:
        group = user_group(user_id)
        publish_on_commit(
            hub_event(group, {"type": CONVERSATION_ADDED, "v": EVENT_VERSION, "conversation": conversation})
        )


def conversation_removed(conversation_id: int, *, user_id: int, reason: str) -> None:
    """Make the user's open sockets stop following the conversation at once, then tell them why."""
    frame = {"type": CONVERSATION_REMOVED, "v": EVENT_VERSION, "conversation_id": conversation_id, "reason": reason}
    command = {"action": "leave", "group": conversation_group(conversation_id), "frame": frame}
    publish_on_commit(hub_control(user_group(user_id), command))


def member_changed(kind: str, conversation_id: int, member: dict[str, Any]) -> None:
    group = conversation_group(conversation_id)
    frame = {"type": kind, "v": EVENT_VERSION, "conversation_id": conversation_id, "member": member}
    publish_on_commit(hub_event(group, frame))


def read_updated(conversation_id: int, *, user_id: int, last_read_message_id: int) -> None:
    """Other tabs of the same user clear their unread badge."""
    frame = {
        "type": READ_UPDATED,
        "v": EVENT_VERSION,
        "conversation_id": conversation_id,
        "last_read_message_id": last_read_message_id,
    }
    publish_on_commit(hub_event(user_group(user_id), frame))


def conversation_brief(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "title": conversation.title,
        "symbol": conversation.stock.symbol if conversation.stock_id else None,
    }


# --- ephemeral: called by the socket consumer, never stored ----------------------------


async def typing(conversation_id: int, *, user_id: int, username: str) -> None:
    group = conversation_group(conversation_id)
    frame = {"type": TYPING, "conversation_id": conversation_id, "user": {"id": user_id, "username": username}}
    # Latest-value: a slow socket gets only the newest typing frame of a person.
    await _send_now(hub_event(group, frame, conflate=f"typing.{conversation_id}.{user_id}"))


async def presence(conversation_ids: list[int], *, user_id: int, username: str, status: str) -> None:
    for conversation_id in conversation_ids:
        group = conversation_group(conversation_id)
        frame = {
            "type": PRESENCE,
            "conversation_id": conversation_id,
            "user": {"id": user_id, "username": username},
            "status": status,
        }
        await _send_now(hub_event(group, frame, conflate=f"presence.{conversation_id}.{user_id}"))


async def _send_now(message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(message["group"], message)
    except Exception:
        log.exception("could not send %s", message["frame"].get("type"))
