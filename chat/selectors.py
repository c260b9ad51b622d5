"""Every chat read that depends on who is asking.

Membership is the only key: a conversation exists, for a user, only while they
are a member of it. For anyone else every route answers ``conversation_not_found``,
exactly as for an id that was never used, so neither its messages, its members
nor its existence leak. Stock rooms are found by symbol, for anyone who may see
the stock, and joined through ``chat.services.stock_room_join``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import IntegerField, OuterRef, Q, QuerySet, Subquery

from chat.attachment_data import attachments_of, prefetch_attachments
from chat.models import Conversation, ConversationKind, Membership, Mention, Message
from core.errors import NotFound
from trading.selectors import stocks_visible

CONVERSATION_NOT_FOUND = "conversation_not_found"
MESSAGE_NOT_FOUND = "message_not_found"
MAX_PAGE = 200
DEFAULT_PAGE = 50
MAX_SEARCH_LENGTH = 200
# Unread counts stop here: a badge reads "99+" beyond, and a conversation with
# thousands of unread messages costs the list no more than one with a hundred.
UNREAD_COUNT_CAP = 100

# "$ACME" or "$BRK.B"; a trailing dot is punctuation, not part of the symbol.
SYMBOL_MENTION = re.compile(r"(?<![\w$])\$([A-Z][A-Z0-9.]{0,9})")
# "@bob" or "@ann.lee" (a username's characters: letters, digits, _ . @ + -); a trailing dot is
# punctuation. static/js/chat.js highlights by the same rule.
USER_MENTION = re.compile(r"(?<![\w.@+-])@([\w.@+-]{1,150})")
# A reply quotes this much of the message it answers.
REPLY_EXCERPT_LENGTH = 140


def conversation_not_found(conversation_id: object = None) -> NotFound:
    return NotFound("No such conversation.", code=CONVERSATION_NOT_FOUND)


def _as_id(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def memberships_of(viewer) -> QuerySet[Membership]:
    """The viewer's memberships that count: a stock room only while the viewer may see its stock
    (a user who loses access to a restricted stock loses its room with it)."""
    return Membership.objects.filter(user=viewer).filter(
        Q(conversation__stock__isnull=True) | Q(conversation__stock__in=stocks_visible(viewer=viewer))
    )


def member_conversations(viewer) -> QuerySet[Conversation]:
    return Conversation.objects.filter(pk__in=memberships_of(viewer).values("conversation_id"))


def membership_get(*, viewer, conversation_id: object) -> Membership:
    """The viewer's membership of the conversation; NotFound for non-members and unknown ids alike."""
    pk = _as_id(conversation_id)
    if pk is None or viewer is None or not viewer.is_authenticated:
        raise conversation_not_found()
    membership = (
        memberships_of(viewer).select_related("conversation", "conversation__stock").filter(conversation_id=pk).first()
    )
    if membership is None:
        raise conversation_not_found()
    return membership


def member_conversation_ids(*, viewer, conversation_ids: Iterable[int]) -> set[int]:
    return set(
        memberships_of(viewer)
        .filter(conversation_id__in=list(conversation_ids))
        .values_list("conversation_id", flat=True)
    )


def member_list(*, viewer, conversation_id: object) -> QuerySet[Membership]:
    membership = membership_get(viewer=viewer, conversation_id=conversation_id)
    return (
        Membership.objects.filter(conversation_id=membership.conversation_id)
        .select_related("user")
        .order_by("joined_at", "id")
    )


# --- messages as data -------------------------------------------------------------------


def mentioned_symbols(body: str) -> list[str]:
    return list(dict.fromkeys(match.rstrip(".") for match in SYMBOL_MENTION.findall(body)))


def shared_symbol(payload: dict[str, Any] | None) -> str | None:
    """The stock of a shared fill or position card (``payload``), if the message is one."""
    if not isinstance(payload, dict):
        return None
    shared = payload.get(payload.get("kind")) if payload.get("kind") in ("fill", "position") else None
    symbol = shared.get("symbol") if isinstance(shared, dict) else None
    return symbol if isinstance(symbol, str) else None


def message_symbols(message: Message) -> list[str]:
    """The stocks a message names: its ``$SYMBOL`` mentions, then the stock of a shared card."""
    symbols = mentioned_symbols(message.body)
    shared = shared_symbol(message.payload)
    if shared is not None and shared not in symbols:
        symbols.append(shared)
    return symbols


def visible_symbols(*, viewer, symbols: Iterable[str]) -> set[str]:
    wanted = set(symbols)
    if not wanted:
        return set()
    return set(stocks_visible(viewer=viewer).filter(symbol__in=wanted).values_list("symbol", flat=True))


def message_data(message: Message, *, visible: set[str]) -> dict[str, Any]:
    """The message as JSON-safe data. ``symbols`` lists the mentioned stocks the reader may see
    (then a shared card's stock, if the reader may see it): clients link them and follow their
    prices; the body itself is plain text and is always shown escaped."""
    author = message.author
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "author": None if author is None else {"id": author.pk, "username": author.get_username()},
        "body": message.body,
        "payload": message.payload,
        "symbols": [symbol for symbol in message_symbols(message) if symbol in visible],
        "client_message_id": message.client_message_id,
        "created_at": message.created_at.isoformat(),
        "edited_at": None if message.edited_at is None else message.edited_at.isoformat(),
        "deleted": message.deleted_at is not None,
        "attachments": attachments_of(message),
        "reactions": reactions_data(message),
        "reply_to": reply_data(message),
        "mentions": list(message.mentions or []),
    }


def reactions_data(message: Message) -> list[dict[str, Any]]:
    """The message's reactions (``chat.reactions`` keeps the summary); none on a deleted message."""
    if message.deleted_at is not None:
        return []
    return list(message.reaction_summary or [])


# --- replies and mentions ---------------------------------------------------------------------


def with_replies(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Messages with their authors and the message each answers, in the one query."""
    return messages.select_related("author", "reply_to", "reply_to__author")


def reply_excerpt(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= REPLY_EXCERPT_LENGTH else text[: REPLY_EXCERPT_LENGTH - 1].rstrip() + "…"


def reply_data(message: Message) -> dict[str, Any] | None:
    """What a reply shows of the message it answers (as that message is now: edited or deleted)."""
    if message.reply_to_id is None:
        return None
    quoted = message.reply_to
    if quoted is None:
        return None
    author = quoted.author
    return {
        "id": quoted.pk,
        "author": None if author is None else {"id": author.pk, "username": author.get_username()},
        "excerpt": reply_excerpt(quoted.body),
        "deleted": quoted.deleted_at is not None,
    }


def _unread_mentions(*, viewer, conversation_id, last_read_message_id) -> QuerySet[Mention]:
    """Mentions of the viewer in unread messages (after the read marker, not deleted)."""
    return Mention.objects.filter(
        user=viewer,
        message__conversation_id=conversation_id,
        message_id__gt=last_read_message_id,
        message__deleted_at__isnull=True,
    ).order_by()


def messages_data(*, viewer, messages: list[Message]) -> list[dict[str, Any]]:
    """Messages for one reader, with one query for the visibility of every mentioned symbol."""
    symbols = {symbol for message in messages for symbol in message_symbols(message)}
    visible = visible_symbols(viewer=viewer, symbols=symbols)
    prefetch_attachments(messages)
    return [message_data(message, visible=visible) for message in messages]


def message_broadcast_data(message: Message) -> dict[str, Any]:
    """The one frame every member's socket gets: links only for stocks everyone may see.
    Readers who may also see a restricted stock get its link when they read the history."""
    return messages_data(viewer=None, messages=[message])[0]


# --- history ------------------------------------------------------------------------------


@dataclass
class HistoryPage:
    messages: list[Message]
    has_older: bool
    has_newer: bool


def message_history(
    *,
    viewer,
    conversation_id: object,
    before: int | None = None,
    after: int | None = None,
    limit: int = DEFAULT_PAGE,
) -> HistoryPage:
    """A page of messages in id order (oldest first).

    ``after``: the first ``limit`` messages with a larger id (catching up, resuming).
    ``before``: the last ``limit`` messages with a smaller id (scrolling back).
    Neither: the newest ``limit`` messages. Deleted messages stay in as blank tombstones, so a
    client sees every id it could have missed.
    """
    membership = membership_get(viewer=viewer, conversation_id=conversation_id)
    limit = max(1, min(limit, MAX_PAGE))
    messages = with_replies(Message.objects.filter(conversation_id=membership.conversation_id))
    if after is not None:
        rows = list(messages.filter(id__gt=after).order_by("id")[: limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        prefetch_attachments(rows)
        return HistoryPage(rows, has_older=after > 0 and messages.filter(id__lte=after).exists(), has_newer=more)
    if before is not None:
        messages = messages.filter(id__lt=before)
    rows = list(messages.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit][::-1]
    prefetch_attachments(rows)
    return HistoryPage(rows, has_older=more, has_newer=before is not None)


def message_get(*, viewer, message_id: object) -> Message:
    pk = _as_id(message_id)
    message = None
    if pk is not None and viewer is not None and viewer.is_authenticated:
        message = with_replies(Message.objects.filter(pk=pk, conversation__in=member_conversations(viewer))).first()
    if message is None:
        raise NotFound("No such message.", code=MESSAGE_NOT_FOUND)
    return message


# --- conversation list ----------------------------------------------------------------------


class CappedCount(Subquery):
    """``COUNT(*)`` of a subquery's rows, which the subquery limits (``[:cap]``) to bound the work."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS capped)"
    output_field = IntegerField()


def _unread(*, viewer, conversation_id, last_read_message_id) -> QuerySet[Message]:
    """Messages by others after the read marker (the deleted ones do not count)."""
    return (
        Message.objects.filter(conversation_id=conversation_id, id__gt=last_read_message_id, deleted_at__isnull=True)
        .exclude(author=viewer)
        .order_by()
    )


@dataclass
class ConversationSummary:
    membership: Membership
    conversation: Conversation
    last_message: dict[str, Any] | None
    unread_count: int
    members: list[dict[str, Any]]
    mention_count: int = 0


def conversation_list(*, viewer, conversation_id: int | None = None) -> list[ConversationSummary]:
    """The viewer's conversations (or the one with ``conversation_id``), newest activity first,
    each with its last message and the number of unread messages by others, at most
    ``UNREAD_COUNT_CAP``. Five queries (one for the last messages' attachments), however many
    conversations or messages."""
    last_id = Message.objects.filter(conversation_id=OuterRef("conversation_id")).order_by("-id").values("id")[:1]
    unread = _unread(
        viewer=viewer,
        conversation_id=OuterRef("conversation_id"),
        last_read_message_id=OuterRef("last_read_message_id"),
    ).values("id")[:UNREAD_COUNT_CAP]
    mentions = _unread_mentions(
        viewer=viewer,
        conversation_id=OuterRef("conversation_id"),
        last_read_message_id=OuterRef("last_read_message_id"),
    ).values("id")[:UNREAD_COUNT_CAP]
    mine = memberships_of(viewer)
    if conversation_id is not None:
        mine = mine.filter(conversation_id=conversation_id)
    memberships = list(
        mine.select_related("conversation", "conversation__stock").annotate(
            last_message_id=Subquery(last_id),
            unread_count=CappedCount(unread),
            mention_count=CappedCount(mentions),
        )
    )
    memberships.sort(key=lambda m: (m.last_message_id or 0, m.conversation_id), reverse=True)
    last_ids = [m.last_message_id for m in memberships if m.last_message_id]
    last_messages = with_replies(Message.objects.filter(id__in=last_ids))
    last_data = {data["id"]: data for data in messages_data(viewer=viewer, messages=list(last_messages))}
    # Direct and group conversations list their members; a stock room may be large.
    small = [m.conversation_id for m in memberships if m.conversation.kind != ConversationKind.STOCK]
    members: dict[int, list[dict[str, Any]]] = {}
    for other in Membership.objects.filter(conversation_id__in=small).select_related("user").order_by("id"):
        members.setdefault(other.conversation_id, []).append(member_data(other))
    return [
        ConversationSummary(
            membership=m,
            conversation=m.conversation,
            last_message=last_data.get(m.last_message_id),
            unread_count=m.unread_count,
            members=members.get(m.conversation_id, []),
            mention_count=m.mention_count,
        )
        for m in memberships
    ]


def conversation_summary(*, viewer, conversation_id: object) -> ConversationSummary:
    membership = membership_get(viewer=viewer, conversation_id=conversation_id)
    return conversation_list(viewer=viewer, conversation_id=membership.conversation_id)[0]


def conversation_summary_data(summary: ConversationSummary) -> dict[str, Any]:
    conversation, membership = summary.conversation, summary.membership
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "title": conversation.title,
        "symbol": conversation.stock.symbol if conversation.stock_id else None,
        "created_at": conversation.created_at.isoformat(),
        "role": membership.role,
        "muted": membership.muted,
        "last_read_message_id": membership.last_read_message_id,
        "unread_count": summary.unread_count,
        "mention_count": summary.mention_count,
        "last_message": summary.last_message,
        "members": summary.members,
    }


def member_data(membership: Membership) -> dict[str, Any]:
    return {
        "user": {"id": membership.user_id, "username": membership.user.get_username()},
        "role": membership.role,
        "joined_at": membership.joined_at.isoformat(),
    }


def unread_count(*, viewer, conversation_id: object) -> int:
    """Unread messages by others in one conversation, at most ``UNREAD_COUNT_CAP``."""
    membership = membership_get(viewer=viewer, conversation_id=conversation_id)
    unread = _unread(
        viewer=viewer,
        conversation_id=membership.conversation_id,
        last_read_message_id=membership.last_read_message_id,
    )
    return unread.values("id")[:UNREAD_COUNT_CAP].count()


# --- search ---------------------------------------------------------------------------------


def message_search(*, viewer, query: str) -> QuerySet[Message]:
    """Messages matching ``query`` in the viewer's conversations, newest first.

    PostgreSQL: full-text search (English stemming, web-search syntax), served by a GIN index on
    the same expression. Other databases: a case-insensitive substring match.
    """
    query = (query or "").strip()[:MAX_SEARCH_LENGTH]
    mine = Message.objects.filter(conversation__in=member_conversations(viewer), deleted_at__isnull=True)
    messages = with_replies(mine)
    if not query:
        return messages.none()
    return matching(messages, query).order_by("-id")


def matching(messages: QuerySet[Message], query: str) -> QuerySet[Message]:
    """``messages`` whose body matches ``query``; on PostgreSQL the expression is the one the
    GIN index ``chat_message_body_fts`` is built on."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        vector = SearchVector("body", config="english")
        return messages.annotate(search=vector).filter(
            search=SearchQuery(query, config="english", search_type="websearch")
        )
    return messages.filter(body__icontains=query)


# --- a stock's room -------------------------------------------------------------------------


def stock_room_of(*, viewer, stock_id: int) -> Conversation | None:
    """The room of a stock if the viewer has joined it (``None`` otherwise)."""
    membership = memberships_of(viewer).filter(conversation__stock_id=stock_id).select_related("conversation").first()
    return None if membership is None else membership.conversation


# --- resuming by seq ------------------------------------------------------------------------


def message_id_at_seq(*, viewer, conversation_id: object, seq: int) -> int:
    """The id of the conversation's last message with a seq up to ``seq`` (0 if none), for members.

    Within a conversation seq and id grow together (both are taken under the conversation's
    lock in ``message_send``), so "after seq N" is "after this id" for ``message_history``.
    """
    membership = membership_get(viewer=viewer, conversation_id=conversation_id)
    if seq <= 0:
        return 0
    last = (
        Message.objects.filter(conversation_id=membership.conversation_id, seq__lte=seq)
        .order_by("-seq")
        .values_list("id", flat=True)
        .first()
    )
    return last or 0
