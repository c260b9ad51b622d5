"""Chat in GraphQL: conversations, history, search, sending, and live messages and events.

Membership is checked by ``chat.selectors`` and ``chat.services``, exactly as for the REST
API and /ws/: for a non-member every conversation route answers ``conversation_not_found``.
``messages(conversationId, afterSeq)`` resumes as ``chat.resume`` does on /ws/: it follows
the conversation first, then reads what was missed, and never sends a message twice.
See docs/graphql.md.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from channels.db import database_sync_to_async
from strawberry.scalars import JSON
from strawberry.types import Info

from chat import events, reactions, selectors, services
from chat.models import REACTIONS
from core.errors import ServiceError
from core.graphql.base import graphql_error, page_size, refusals_as_errors, viewer
from core.graphql.streams import HubStream
from core.inputs import parse_int, require_id

RESUME_BATCH = 200
INVALID_QUERY = "invalid_query"  # the REST API's code for a bad page position
# Seqs of recently sent messages per subscription; a live copy of one of them is a duplicate.
SENT_REMEMBERED = 1000


@strawberry.type
class User:
    id: strawberry.ID
    username: str


@strawberry.type(description="An image or file sent with a message; its URLs are members-only redirects.")
class Attachment:
    id: strawberry.ID
    kind: str
    name: str
    content_type: str
    size: int
    url: str
    thumbnail_url: str | None
    width: int | None
    height: int | None
    thumbnail_width: int | None
    thumbnail_height: int | None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Attachment:
        return cls(**{**data, "id": strawberry.ID(str(data["id"]))})


@strawberry.type(description="Everyone who reacted to a message with one reaction.")
class Reaction:
    name: str = strawberry.field(description=f"One of {', '.join(REACTIONS)}.")
    emoji: str
    count: int
    users: list[User] = strawberry.field(description=f"The first {reactions.NAMES_LISTED} who reacted, oldest first.")

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Reaction:
        return cls(
            name=data["name"],
            emoji=data["emoji"],
            count=data["count"],
            users=[User(id=strawberry.ID(str(u["id"])), username=u["username"]) for u in data["users"]],
        )


@strawberry.type(description="What a reply shows of the message it answers.")
class ReplyQuote:
    id: strawberry.ID
    author: User | None
    excerpt: str = strawberry.field(description="The start of its text (empty once deleted).")
    deleted: bool

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> ReplyQuote | None:
        if data is None:
            return None
        return cls(
            id=strawberry.ID(str(data["id"])),
            author=_user(data["author"]),
            excerpt=data["excerpt"],
            deleted=data["deleted"],
        )


def _user(data: dict[str, Any] | None) -> User | None:
    return None if data is None else User(id=strawberry.ID(str(data["id"])), username=data["username"])


@strawberry.type
class Message:
    id: strawberry.ID
    conversation_id: strawberry.ID
    seq: int
    author: User | None
    body: str
    payload: JSON | None
    symbols: list[str]
    client_message_id: str | None
    created_at: dt.datetime
    edited_at: dt.datetime | None
    deleted: bool
    attachments: list[Attachment]
    reactions: list[Reaction] = strawberry.field(description="Counts per reaction; none on a deleted message.")
    reply_to: ReplyQuote | None = strawberry.field(description="The message this one answers.")
    mentions: list[User] = strawberry.field(description="Members named with @username.")
    replayed: bool = strawberry.field(
        default=False, description="sendMessage: true when clientMessageId named a message sent before."
    )

    @classmethod
    def from_data(cls, data: dict[str, Any], replayed: bool = False) -> Message:
        author = data["author"]
        return cls(
            id=strawberry.ID(str(data["id"])),
            conversation_id=strawberry.ID(str(data["conversation_id"])),
            seq=data["seq"],
            author=None if author is None else User(id=strawberry.ID(str(author["id"])), username=author["username"]),
            body=data["body"],
            payload=data["payload"],
            symbols=list(data["symbols"]),
            client_message_id=data["client_message_id"],
            created_at=dt.datetime.fromisoformat(data["created_at"]),
            edited_at=None if data["edited_at"] is None else dt.datetime.fromisoformat(data["edited_at"]),
            deleted=data["deleted"],
            attachments=[Attachment.from_data(a) for a in data.get("attachments", [])],
            reactions=[Reaction.from_data(r) for r in data["reactions"]],
            reply_to=ReplyQuote.from_data(data["reply_to"]),
            mentions=[_user(person) for person in data["mentions"]],
            replayed=replayed,
        )


@strawberry.type
class Member:
    user: User
    role: str
    joined_at: dt.datetime

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Member:
        user = data["user"]
        return cls(
            user=User(id=strawberry.ID(str(user["id"])), username=user["username"]),
            role=data["role"],
            joined_at=dt.datetime.fromisoformat(data["joined_at"]),
        )


@strawberry.type
class Conversation:
    id: strawberry.ID
    kind: str
    title: str
    symbol: str | None
    created_at: dt.datetime
    role: str
    muted: bool
    last_read_message_id: int
    unread_count: int = strawberry.field(description=f"Capped at {selectors.UNREAD_COUNT_CAP}.")
    mention_count: int = strawberry.field(
        description=f"Unread messages that mention the viewer; capped at {selectors.UNREAD_COUNT_CAP}."
    )
    last_message: Message | None
    members: list[Member] = strawberry.field(description="Direct and group conversations only; empty for stock rooms.")

    @classmethod
    def from_summary(cls, summary: selectors.ConversationSummary) -> Conversation:
        data = selectors.conversation_summary_data(summary)
        return cls(
            id=strawberry.ID(str(data["id"])),
            kind=data["kind"],
            title=data["title"],
            symbol=data["symbol"],
            created_at=dt.datetime.fromisoformat(data["created_at"]),
            role=data["role"],
            muted=data["muted"],
            last_read_message_id=data["last_read_message_id"],
            unread_count=data["unread_count"],
            mention_count=data["mention_count"],
            last_message=None if data["last_message"] is None else Message.from_data(data["last_message"]),
            members=[Member.from_data(m) for m in data["members"]],
        )


@strawberry.type
class MessagePage:
    messages: list[Message] = strawberry.field(description="Oldest first.")
    has_older: bool
    has_newer: bool


@strawberry.type(description="A change in a conversation other than a new message.")
class ConversationEvent:
    kind: str = strawberry.field(
        description="chat.message.edited, chat.message.deleted, chat.message.reactions, chat.member.joined "
        "or chat.member.left"
    )
    conversation_id: strawberry.ID
    message: Message | None = None
    member: Member | None = None
    message_id: strawberry.ID | None = strawberry.field(default=None, description="chat.message.reactions only.")
    reactions: list[Reaction] | None = strawberry.field(
        default=None, description="chat.message.reactions: the message's full counts after the change."
    )


def _conversation(user, conversation_id: object) -> Conversation:
    return Conversation.from_summary(selectors.conversation_summary(viewer=user, conversation_id=conversation_id))


def _position(value: strawberry.ID | None, name: str) -> int | None:
    """A message id to page from (0: the start), as the REST API reads ``after``/``before``."""
    if value is None:
        return None
    number = parse_int(value)
    if number is None:
        raise ServiceError(INVALID_QUERY, f"{name} must be a message id (a whole number).")
    return number


# --- queries ---------------------------------------------------------------------------


@strawberry.type
class ChatQuery:
    @strawberry.field(description="The viewer's conversations, newest activity first.")
    def conversations(self, info: Info) -> list[Conversation]:
        return [Conversation.from_summary(s) for s in selectors.conversation_list(viewer=viewer(info))]

    @strawberry.field
    def conversation(self, info: Info, id: strawberry.ID) -> Conversation:
        return _conversation(viewer(info), require_id(id, name="id"))

    @strawberry.field(description="A page of messages, oldest first: after a message id, before one, or the newest.")
    def messages(
        self,
        info: Info,
        conversation_id: strawberry.ID,
        after: strawberry.ID | None = None,
        before: strawberry.ID | None = None,
        first: int | None = None,
    ) -> MessagePage:
        user = viewer(info)
        size = page_size(first, default=selectors.DEFAULT_PAGE, maximum=selectors.MAX_PAGE)
        if after is not None and before is not None:
            raise ServiceError(INVALID_QUERY, "Give before or after, not both.")
        page = selectors.message_history(
            viewer=user,
            conversation_id=require_id(conversation_id, name="conversationId"),
            after=_position(after, "after"),
            before=_position(before, "before"),
            limit=size,
        )
        return MessagePage(
            messages=[Message.from_data(d) for d in selectors.messages_data(viewer=user, messages=page.messages)],
            has_older=page.has_older,
            has_newer=page.has_newer,
        )

    @strawberry.field(description="One message of a conversation the viewer is a member of.")
    def message(self, info: Info, id: strawberry.ID) -> Message:
        user = viewer(info)
        found = selectors.message_get(viewer=user, message_id=require_id(id, name="id"))
        return Message.from_data(selectors.messages_data(viewer=user, messages=[found])[0])

    @strawberry.field(description="Messages matching `query` in the viewer's conversations, newest first.")
    def search_messages(self, info: Info, query: str, first: int | None = None) -> list[Message]:
        user = viewer(info)
        size = page_size(first)
        found = list(selectors.message_search(viewer=user, query=query)[:size])
        return [Message.from_data(d) for d in selectors.messages_data(viewer=user, messages=found)]


# --- mutations ---------------------------------------------------------------------------


@strawberry.type
class ChatMutation:
    @strawberry.mutation(description="The direct conversation with a user, created or reopened.")
    def start_direct(self, info: Info, username: str) -> Conversation:
        user = viewer(info)
        return _conversation(user, services.direct_start(user=user, other_username=username).pk)

    @strawberry.mutation
    def create_group(self, info: Info, title: str, usernames: list[str] | None = None) -> Conversation:
        user = viewer(info)
        return _conversation(user, services.group_create(user=user, title=title, member_usernames=usernames).pk)

    @strawberry.mutation
    def join_stock_room(self, info: Info, symbol: str) -> Conversation:
        user = viewer(info)
        return _conversation(user, services.stock_room_join(user=user, symbol=symbol).pk)

    @strawberry.mutation(
        description="Send a message; the same clientMessageId returns the first one (replayed). "
        "replyTo: a message of the same conversation that this one answers."
    )
    def send_message(
        self,
        info: Info,
        conversation_id: strawberry.ID,
        body: str,
        client_message_id: str | None = None,
        attachment_ids: list[strawberry.ID] | None = None,
        reply_to: strawberry.ID | None = None,
    ) -> Message:
        user = viewer(info)
        sent = services.message_submit(
            user=user,
            conversation_id=require_id(conversation_id, name="conversationId"),
            body=body,
            client_message_id=client_message_id,
            attachment_ids=None
            if attachment_ids is None
            else [require_id(a, name="attachmentIds") for a in attachment_ids],
            reply_to=None if reply_to is None else str(reply_to),
        )
        data = selectors.messages_data(viewer=user, messages=[sent.message])[0]
        return Message.from_data(data, replayed=sent.replayed)

    @strawberry.mutation
    def edit_message(self, info: Info, id: strawberry.ID, body: str) -> Message:
        user = viewer(info)
        message = services.message_edit(user=user, message_id=require_id(id, name="id"), body=body)
        return Message.from_data(selectors.messages_data(viewer=user, messages=[message])[0])

    @strawberry.mutation
    def delete_message(self, info: Info, id: strawberry.ID) -> Message:
        user = viewer(info)
        message = services.message_delete(user=user, message_id=require_id(id, name="id"))
        return Message.from_data(selectors.messages_data(viewer=user, messages=[message])[0])

    @strawberry.mutation(
        description="Set (on: true) or clear your reaction on a message; idempotent. Returns the message."
    )
    def react_to_message(self, info: Info, id: strawberry.ID, reaction: str, on: bool = True) -> Message:
        user = viewer(info)
        change = reactions.reaction_set(user=user, message_id=require_id(id, name="id"), reaction=reaction, on=on)
        return Message.from_data(selectors.messages_data(viewer=user, messages=[change.message])[0])

    @strawberry.mutation(description="Move the read marker forward to a message id (never back).")
    def mark_read(self, info: Info, conversation_id: strawberry.ID, message_id: strawberry.ID) -> Conversation:
        user = viewer(info)
        conversation = require_id(conversation_id, name="conversationId")
        number = parse_int(message_id)
        if number is None:
            raise graphql_error("invalid", "messageId must be a message id.")
        services.conversation_mark_read(user=user, conversation_id=conversation, message_id=number)
        return _conversation(user, conversation)

    @strawberry.mutation(description="Owners of a group: add a member by username.")
    def add_member(self, info: Info, conversation_id: strawberry.ID, username: str) -> Conversation:
        user = viewer(info)
        conversation = require_id(conversation_id, name="conversationId")
        services.member_add(actor=user, conversation_id=conversation, username=username)
        return _conversation(user, conversation)

    @strawberry.mutation(description="Owners of a group: remove a member.")
    def remove_member(self, info: Info, conversation_id: strawberry.ID, user_id: strawberry.ID) -> Conversation:
        user = viewer(info)
        conversation = require_id(conversation_id, name="conversationId")
        services.member_remove(actor=user, conversation_id=conversation, user_id=require_id(user_id, name="userId"))
        return _conversation(user, conversation)

    @strawberry.mutation
    def leave_conversation(self, info: Info, conversation_id: strawberry.ID) -> bool:
        services.conversation_leave(
            user=viewer(info), conversation_id=require_id(conversation_id, name="conversationId")
        )
        return True

    @strawberry.mutation
    def mute_conversation(self, info: Info, conversation_id: strawberry.ID, muted: bool) -> Conversation:
        user = viewer(info)
        conversation = require_id(conversation_id, name="conversationId")
        services.conversation_set_muted(user=user, conversation_id=conversation, muted=muted)
        return _conversation(user, conversation)


# --- subscriptions --------------------------------------------------------------------------


def _missed(*, viewer, conversation_id: int, after_seq: int) -> list[dict[str, Any]]:
    """Every message after ``after_seq``, in batches, as data for this reader."""
    after = selectors.message_id_at_seq(viewer=viewer, conversation_id=conversation_id, seq=after_seq)
    result: list[dict[str, Any]] = []
    while True:
        page = selectors.message_history(
            viewer=viewer, conversation_id=conversation_id, after=after, limit=RESUME_BATCH
        )
        result += selectors.messages_data(viewer=viewer, messages=page.messages)
        if not page.has_newer or not page.messages:
            return result
        after = page.messages[-1].pk


class _Sent:
    """The seqs a subscription has sent (the newest ``SENT_REMEMBERED``)."""

    def __init__(self, after_seq: int) -> None:
        self.after_seq = after_seq
        self.seen: set[int] = set()
        self.order: deque[int] = deque()

    def first_time(self, seq: int) -> bool:
        if seq <= self.after_seq or seq in self.seen:
            return False
        self.seen.add(seq)
        self.order.append(seq)
        if len(self.order) > SENT_REMEMBERED:
            self.seen.discard(self.order.popleft())
        return True


async def _follow_conversation(stream: HubStream, info: Info, user, conversation_id: int) -> None:
    allowed = await database_sync_to_async(selectors.member_conversation_ids)(
        viewer=user, conversation_ids=[conversation_id]
    )
    if conversation_id not in allowed:
        # The same answer for an unknown id and one the user is not a member of.
        raise selectors.conversation_not_found()
    # The user's group carries the removal from this conversation; with the session's, sign-out.
    await stream.follow_viewer(info.context, user)
    await stream.follow(events.conversation_group(conversation_id))


@strawberry.type
class ChatSubscription:
    @strawberry.subscription(
        description="New messages of a conversation (members only). With afterSeq, first every message "
        "after that seq, then live ones: none missed, none twice."
    )
    @refusals_as_errors
    async def messages(
        self, info: Info, conversation_id: strawberry.ID, after_seq: int | None = None
    ) -> AsyncGenerator[Message, None]:
        user = viewer(info)
        conversation = require_id(conversation_id, name="conversationId")
        if after_seq is not None and after_seq < 0:
            raise graphql_error("invalid", "afterSeq must be 0 or more.")
        async with HubStream() as stream:
            # Follow first, then read: a message committed in between is in the read or
            # queued in the stream, and _Sent drops the copy.
            await _follow_conversation(stream, info, user, conversation)
            sent = _Sent(after_seq or 0)  # seqs start at 1
            if after_seq is not None:
                missed = await database_sync_to_async(_missed)(
                    viewer=user, conversation_id=conversation, after_seq=after_seq
                )
                for data in missed:
                    if sent.first_time(data["seq"]):
                        yield Message.from_data(data)
            async for frame in stream:
                if frame.get("type") != events.MESSAGE_CREATED:
                    continue
                data = frame["message"]
                if data["conversation_id"] == conversation and sent.first_time(data["seq"]):
                    yield Message.from_data(data)

    @strawberry.subscription(
        description="Edits, deletions, reactions and membership changes in a conversation (members only)."
    )
    @refusals_as_errors
    async def conversation_events(
        self, info: Info, conversation_id: strawberry.ID
    ) -> AsyncGenerator[ConversationEvent, None]:
        user = viewer(info)
        conversation = require_id(conversation_id, name="conversationId")
        async with HubStream() as stream:
            await _follow_conversation(stream, info, user, conversation)
            async for frame in stream:
                kind = frame.get("type")
                if kind in (events.MESSAGE_EDITED, events.MESSAGE_DELETED):
                    if frame["message"]["conversation_id"] == conversation:
                        yield ConversationEvent(
                            kind=kind, conversation_id=conversation_id, message=Message.from_data(frame["message"])
                        )
                elif kind == events.MESSAGE_REACTIONS and frame["conversation_id"] == conversation:
                    yield ConversationEvent(
                        kind=kind,
                        conversation_id=conversation_id,
                        message_id=strawberry.ID(str(frame["message_id"])),
                        reactions=[Reaction.from_data(r) for r in frame["reactions"]],
                    )
                elif kind in (events.MEMBER_JOINED, events.MEMBER_LEFT) and frame["conversation_id"] == conversation:
                    yield ConversationEvent(
                        kind=kind, conversation_id=conversation_id, member=Member.from_data(frame["member"])
                    )
