"""Reactions to messages: the one service the REST API, the socket and GraphQL call.

A member toggles one of a fixed set of reactions (``chat.models.REACTIONS``) on a message of a
conversation they belong to. Anyone else gets ``message_not_found``, exactly as for editing or
deleting a message they cannot see. Setting a reaction that is already set, or clearing one
that is not, changes nothing and announces nothing: ``PUT``/``DELETE`` are idempotent, and a
client that retries after a lost reply ends where it meant to.

The Reaction rows are the truth; ``Message.reaction_summary`` (counts and the first names per
reaction) is rewritten from them under the message's row lock in the same transaction, so every
message payload carries its reactions without a query per page, and a client that missed live
frames gets the right counts by reading the messages again (REST, GraphQL, ``chat.resume``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count

from chat import events
from chat.models import REACTIONS, Message, Reaction
from chat.selectors import message_get, reactions_data
from core import ratelimit
from core.errors import ServiceError

UNKNOWN_REACTION = "unknown_reaction"
MESSAGE_DELETED = "message_deleted"
RATE_LIMITED = "rate_limited"
# Reactions a person may add in a minute (removals are free: they only undo).
REACTIONS_PER_MINUTE = 60
REACTION_WINDOW_SECONDS = 60
REACTION_SCOPE = "chat-reactions"
# Names listed per reaction in a payload (the count is always exact): a frame stays small however
# large the room.
NAMES_LISTED = 20


@dataclass
class ReactionChange:
    message: Message
    changed: bool


def reaction_names() -> list[str]:
    return list(REACTIONS)


def clean_reaction(name: object) -> str:
    if not isinstance(name, str) or name not in REACTIONS:
        raise ServiceError(UNKNOWN_REACTION, f"reaction must be one of {', '.join(REACTIONS)}.")
    return name


def _summary(message_id: int) -> list[dict[str, Any]]:
    counts = dict(
        Reaction.objects.filter(message_id=message_id)
        .values_list("name")
        .annotate(count=Count("id"))
        .values_list("name", "count")
    )
    summary = []
    for name, emoji in REACTIONS.items():
        if not counts.get(name):
            continue
        first = (
            Reaction.objects.filter(message_id=message_id, name=name)
            .select_related("user")
            .order_by("id")[:NAMES_LISTED]
        )
        summary.append(
            {
                "name": name,
                "emoji": emoji,
                "count": counts[name],
                "users": [{"id": r.user_id, "username": r.user.get_username()} for r in first],
            }
        )
    return summary


def _check_rate(user) -> None:
    # The one rate-limit helper (core/ratelimit.py), like message sends; not strict, as sends.
    decision = ratelimit.hit(REACTION_SCOPE, str(user.pk), limit=REACTIONS_PER_MINUTE, window=REACTION_WINDOW_SECONDS)
    if not decision.allowed:
        raise ServiceError(
            RATE_LIMITED,
            f"You can add at most {REACTIONS_PER_MINUTE} reactions a minute; try again shortly.",
            status=429,
            retry_after=decision.retry_after,
        )


def reaction_set(*, user, message_id: object, reaction: object, on: bool) -> ReactionChange:
    """Add (``on``) or remove the user's ``reaction`` on a message of one of their conversations.

    Members only (``message_not_found`` otherwise); a deleted message answers ``message_deleted``.
    Announces ``chat.message.reactions`` with the full counts on commit when something changed.
    """
    name = clean_reaction(reaction)
    with transaction.atomic():
        visible = message_get(viewer=user, message_id=message_id)
        # The row lock orders concurrent toggles of one message, so each summary is rewritten
        # from every row committed before it.
        message = Message.objects.select_for_update(of=("self",)).get(pk=visible.pk)
        if message.deleted_at is not None:
            raise ServiceError(MESSAGE_DELETED, "The message was deleted.", status=409)
        mine = Reaction.objects.filter(message=message, user=user, name=name)
        if on:
            if mine.exists():
                return ReactionChange(message, changed=False)
            _check_rate(user)
            Reaction.objects.create(message=message, user=user, name=name)
        elif not mine.delete()[0]:
            return ReactionChange(message, changed=False)
        message.reaction_summary = _summary(message.pk)
        message.save(update_fields=["reaction_summary"])
        events.message_reactions_changed(
            conversation_id=message.conversation_id,
            message_id=message.pk,
            reactions=message.reaction_summary,
            user={"id": user.pk, "username": user.get_username()},
            reaction=name,
            on=on,
        )
        return ReactionChange(message, changed=True)


def reaction_change_data(message: Message) -> dict[str, Any]:
    """What the API and the socket answer a toggle with: the message's full reaction counts."""
    return {
        "message_id": message.pk,
        "conversation_id": message.conversation_id,
        "reactions": reactions_data(message),
    }
