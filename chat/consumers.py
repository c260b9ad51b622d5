"""Chat frames on the one WebSocket (``chat.*``; see docs/websocket.md).

A socket follows ``conversation.<id>`` only for conversations the user is a
member of, after checking it, and only when the client asks (``chat.subscribe``
or ``chat.resume``): a tab that shows no chat costs nothing. New conversations
and removals reach the socket through ``user.<id>``, which it always follows;
a removal makes it stop following the conversation at once (a hub control
command), before anything else is said in it.

No loss, no duplicates: ``chat.resume`` follows the conversation first and
then reads what the client missed from the database. Live messages that
arrive meanwhile are held back, and a message the socket has already sent is
never sent again, so the client gets every id after the one it named, once.

Bounded work: one ``chat.resume`` reads at most ``RESUME_PAGE`` messages of a
conversation and ``RESUME_FRAME_LIMIT`` in all, and spends ``RESUME_COST``
tokens of the socket's frame budget. A conversation with more to read is
listed in the reply's ``more``; until the client has asked to the end, the
socket sends none of its live messages (each would only reveal a gap that a
later page fills anyway).
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from channels.db import database_sync_to_async

from chat import events, reactions, selectors, services
from core.errors import ServiceError
from core.inputs import parse_id, parse_int
from core.realtime.limits import TokenBucket
from core.realtime.socket import ERROR_RATE_LIMITED

MAX_CONVERSATIONS_PER_FRAME = 100
MAX_CONVERSATION_SUBSCRIPTIONS = 500
# A resume page is the REST API's largest page; a frame's total stays well under the outbox's
# 512 frames, so a resume never overflows a socket that reads at all.
RESUME_PAGE = selectors.MAX_PAGE
RESUME_FRAME_LIMIT = 300
# Tokens of the socket's frame budget (20 a second, bursts of 60) one chat.resume spends: at most
# about 5 resumes, 1,500 messages, a second per socket once the burst is spent.
RESUME_COST = 4
TYPING_PER_SECOND = 0.5
TYPING_BURST = 3
PRESENCE_PER_SECOND = 0.1
PRESENCE_BURST = 3
PRESENCE_STATUSES = ("online", "away")
PRESENCE_OFFLINE = "offline"
# Ids of recently sent messages per conversation; a live copy of one of them is a duplicate.
SENT_IDS_REMEMBERED = 1000

ERROR_INVALID = "invalid"
ERROR_TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
ERROR_NOT_SUBSCRIBED = "not_subscribed"

CREATED_PREFIX = '{"type":"' + events.MESSAGE_CREATED + '"'


def _message_position(frame: dict[str, Any]) -> int:
    """``message_id`` of ``chat.read``: a message id, or 0; within bigint, which PostgreSQL needs."""
    value = frame.get("message_id")
    number = parse_int(value) if isinstance(value, int) else None
    if number is None:
        raise ServiceError(ERROR_INVALID, '"message_id" must be a message id (a whole number).')
    return number


def _conversation_id(frame: dict[str, Any]) -> int:
    """``conversation_id``: a JSON number from 1 to 2**63-1 (a string of digits is refused)."""
    number = parse_id(value) if isinstance(value := frame.get("conversation_id"), int) else None
    if number is None:
        raise ServiceError(ERROR_INVALID, '"conversation_id" must be a conversation id (a positive whole number).')
    return number


def _conversation_ids(frame: dict[str, Any]) -> list[int]:
    ids = frame.get("conversation_ids")
    error = ServiceError(ERROR_INVALID, f'"conversation_ids" must be a list of 1 to {MAX_CONVERSATIONS_PER_FRAME} ids.')
    if not isinstance(ids, list) or not ids or len(ids) > MAX_CONVERSATIONS_PER_FRAME:
        raise error
    parsed = [parse_id(i) if isinstance(i, int) else None for i in ids]
    if None in parsed:
        raise error
    return list(dict.fromkeys(parsed))


def _reply_to(frame: dict[str, Any]) -> int | None:
    """``reply_to`` of ``chat.send``: absent or null, else a JSON number (the service checks that
    it names a message of the same conversation: invalid_reply_to)."""
    value = frame.get("reply_to")
    if value is None:
        return None
    number = parse_id(value) if isinstance(value, int) else None
    if number is None:
        raise ServiceError(services.INVALID_REPLY_TO, '"reply_to" must be a message id (a positive whole number).')
    return number


def _resume_positions(frame: dict[str, Any]) -> dict[int, int]:
    positions = frame.get("conversations")
    error = ServiceError(
        ERROR_INVALID,
        f'"conversations" must map 1 to {MAX_CONVERSATIONS_PER_FRAME} conversation ids to the last '
        "message id seen (0 for none).",
    )
    if not isinstance(positions, dict) or not positions or len(positions) > MAX_CONVERSATIONS_PER_FRAME:
        raise error
    result = {}
    for key, value in positions.items():
        # Keys are JSON strings of ASCII digits ("²" passes str.isdigit() but not int()).
        conversation_id = parse_id(key)
        after = parse_int(value) if isinstance(value, int) else None
        if conversation_id is None or after is None:
            raise error
        result[conversation_id] = after
    return result


def _history_page(*, viewer, conversation_id: int, after: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """At most ``limit`` messages after ``after``, as data for this reader, and whether more follow."""
    page = selectors.message_history(viewer=viewer, conversation_id=conversation_id, after=after, limit=limit)
    return selectors.messages_data(viewer=viewer, messages=page.messages), page.has_newer


def _send_data(**kwargs) -> dict[str, Any]:
    sent = services.message_submit(**kwargs)
    data = selectors.messages_data(viewer=kwargs["user"], messages=[sent.message])[0]
    data["replayed"] = sent.replayed
    return data


def _share_data(*, fill_id: object, **kwargs) -> dict[str, Any]:
    return _send_data(payload=services.fill_payload(user=kwargs["user"], fill_id=fill_id), **kwargs)


def _react_data(**kwargs) -> dict[str, Any]:
    change = reactions.reaction_set(**kwargs)
    return {**reactions.reaction_change_data(change.message), "changed": change.changed}


def _message_id(frame: dict[str, Any]) -> int:
    """``message_id`` of ``chat.edit`` / ``chat.delete``: a JSON number from 1 to 2**63-1."""
    number = parse_id(value) if isinstance(value := frame.get("message_id"), int) else None
    if number is None:
        raise ServiceError(ERROR_INVALID, '"message_id" must be a message id (a positive whole number).')
    return number


def _edit_data(*, user, message_id: int, body: object) -> dict[str, Any]:
    message = services.message_edit(user=user, message_id=message_id, body=body)
    return selectors.messages_data(viewer=user, messages=[message])[0]


def _delete_data(*, user, message_id: int, moderate: bool) -> dict[str, Any]:
    message = services.message_delete(user=user, message_id=message_id, moderate=moderate)
    return selectors.messages_data(viewer=user, messages=[message])[0]


class ChatFrames:
    """Mixin for the socket consumer: the ``chat.*`` frames."""

    def frame_handlers(self) -> dict[str, Any]:
        return {
            **super().frame_handlers(),
            "chat.subscribe": self.handle_chat_subscribe,
            "chat.unsubscribe": self.handle_chat_unsubscribe,
            "chat.resume": self.handle_chat_resume,
            "chat.send": self.handle_chat_send,
            "chat.share_fill": self.handle_chat_share_fill,
            "chat.edit": self.handle_chat_edit,
            "chat.delete": self.handle_chat_delete,
            "chat.read": self.handle_chat_read,
            "chat.typing": self.handle_chat_typing,
            "chat.presence": self.handle_chat_presence,
            "chat.react": self.handle_chat_react,
        }

    # --- state ---------------------------------------------------------------------------

    def _chat_state(self) -> None:
        if not hasattr(self, "_chat_sent"):
            self._chat_sent: dict[int, tuple[set[int], deque[int]]] = {}
            self._chat_held: dict[int, list[tuple[int, str]]] = {}
            # Conversations whose client has not resumed to the end (the last reply said "more").
            self._chat_behind: set[int] = set()
            self._typing_rate = TokenBucket(rate=TYPING_PER_SECOND, burst=TYPING_BURST)
            self._presence_rate = TokenBucket(rate=PRESENCE_PER_SECOND, burst=PRESENCE_BURST)
            self._presence_told: set[int] = set()

    def _remember_sent(self, conversation_id: int, message_id: int) -> bool:
        """Record that the socket sent ``message_id``; False if it had already."""
        seen, order = self._chat_sent.setdefault(conversation_id, (set(), deque()))
        if message_id in seen:
            return False
        seen.add(message_id)
        order.append(message_id)
        if len(order) > SENT_IDS_REMEMBERED:
            seen.discard(order.popleft())
        return True

    def deliver(self, text: str, conflate: str | None) -> None:
        # Only new-message frames need care (held during a resume, never twice); the
        # prefix test keeps every other frame on the hub's encode-once path.
        if text.startswith(CREATED_PREFIX) and hasattr(self, "_chat_sent"):
            message = json.loads(text)["message"]
            conversation_id, message_id = message["conversation_id"], message["id"]
            held = self._chat_held.get(conversation_id)
            if held is not None:
                held.append((message_id, text))
                return
            if conversation_id in self._chat_behind:
                return  # a later resume page brings it, in order
            if not self._remember_sent(conversation_id, message_id):
                return
        super().deliver(text, conflate)

    def _conversation_groups(self) -> set[str]:
        return {group for group in self.followed if group.startswith("conversation.")}

    def _followed_conversation_ids(self) -> set[int]:
        return {int(group.split(".", 1)[1]) for group in self._conversation_groups()}

    def _following(self, conversation_id: int) -> bool:
        return events.conversation_group(conversation_id) in self.followed

    async def _follow_members_only(self, conversation_ids: list[int]) -> None:
        new = [i for i in conversation_ids if not self._following(i)]
        if len(self._conversation_groups()) + len(new) > MAX_CONVERSATION_SUBSCRIPTIONS:
            raise ServiceError(
                ERROR_TOO_MANY_SUBSCRIPTIONS,
                f"A socket follows at most {MAX_CONVERSATION_SUBSCRIPTIONS} conversations.",
            )
        allowed = await database_sync_to_async(selectors.member_conversation_ids)(
            viewer=self.user, conversation_ids=conversation_ids
        )
        if len(allowed) != len(conversation_ids):
            # The same answer for an unknown id and one the user is not a member of.
            raise selectors.conversation_not_found()
        for conversation_id in conversation_ids:
            await self.follow(events.conversation_group(conversation_id))

    # --- frames ----------------------------------------------------------------------------

    async def handle_chat_subscribe(self, frame: dict[str, Any]) -> None:
        self._chat_state()
        ids = _conversation_ids(frame)
        await self._follow_members_only(ids)
        self.send_frame({"type": "chat.subscribed", "conversation_ids": ids, "ref": frame.get("ref")})

    async def handle_chat_unsubscribe(self, frame: dict[str, Any]) -> None:
        self._chat_state()
        ids = _conversation_ids(frame)
        for conversation_id in ids:
            await self.unfollow(events.conversation_group(conversation_id))
            self._chat_behind.discard(conversation_id)
        self.send_frame({"type": "chat.unsubscribed", "conversation_ids": ids, "ref": frame.get("ref")})

    async def handle_chat_resume(self, frame: dict[str, Any]) -> None:
        self._chat_state()
        positions = _resume_positions(frame)
        # The frame already spent one token on the way in.
        if not self.rate.take(RESUME_COST - 1):
            raise ServiceError(ERROR_RATE_LIMITED, "Too many resumes; send this one again in a moment.")
        ids = list(positions)
        for conversation_id in ids:
            self._chat_held.setdefault(conversation_id, [])
        more: list[int] = []
        try:
            # Follow first, then read: a message committed in between is in the read or held back.
            await self._follow_members_only(ids)
            read = database_sync_to_async(_history_page)
            budget = RESUME_FRAME_LIMIT
            for conversation_id, after in positions.items():
                missed, has_more = [], True
                if budget > 0:
                    missed, has_more = await read(
                        viewer=self.user, conversation_id=conversation_id, after=after, limit=min(RESUME_PAGE, budget)
                    )
                    budget -= len(missed)
                for message in missed:
                    if self._remember_sent(conversation_id, message["id"]):
                        self.send_frame({"type": events.MESSAGE_CREATED, "v": events.EVENT_VERSION, "message": message})
                if has_more:
                    # What was held back is newer than this page: a later page brings it.
                    more.append(conversation_id)
                    self._chat_behind.add(conversation_id)
                    self._chat_held.pop(conversation_id, None)
                else:
                    self._chat_behind.discard(conversation_id)
                    self._release(conversation_id, after)
        finally:
            for conversation_id in ids:
                self._release(conversation_id, None)
        self.send_frame({"type": "chat.resumed", "conversation_ids": ids, "more": more, "ref": frame.get("ref")})

    def _release(self, conversation_id: int, after: int | None) -> None:
        held = self._chat_held.pop(conversation_id, None)
        if not held:
            return
        for message_id, text in sorted(held):
            if (after is None or message_id > after) and self._remember_sent(conversation_id, message_id):
                self.outbox.deliver(text)

    async def handle_chat_send(self, frame: dict[str, Any]) -> None:
        self._chat_state()
        data = await database_sync_to_async(_send_data)(
            user=self.user,
            conversation_id=_conversation_id(frame),
            body=frame.get("body"),
            client_message_id=frame.get("client_message_id"),
            attachment_ids=frame.get("attachment_ids"),
            reply_to=_reply_to(frame),
        )
        self.send_frame({"type": "chat.sent", "message": data, "ref": frame.get("ref")})

    async def handle_chat_share_fill(self, frame: dict[str, Any]) -> None:
        self._chat_state()
        body = frame.get("body", "")
        data = await database_sync_to_async(_share_data)(
            user=self.user,
            conversation_id=_conversation_id(frame),
            fill_id=parse_id(frame.get("fill_id")),  # None (not an id of the user's fills): fill_not_found
            body=body,
            client_message_id=frame.get("client_message_id"),
        )
        self.send_frame({"type": "chat.sent", "message": data, "ref": frame.get("ref")})

    async def handle_chat_react(self, frame: dict[str, Any]) -> None:
        message_id = parse_id(value) if isinstance(value := frame.get("message_id"), int) else None
        if message_id is None:
            raise ServiceError(ERROR_INVALID, '"message_id" must be a message id (a positive whole number).')
        on = frame.get("on", True)
        if not isinstance(on, bool):
            raise ServiceError(ERROR_INVALID, '"on" must be true (set the reaction) or false (clear it).')
        data = await database_sync_to_async(_react_data)(
            user=self.user, message_id=message_id, reaction=frame.get("reaction"), on=on
        )
        self.send_frame({"type": "chat.reacted", **data, "ref": frame.get("ref")})

    async def handle_chat_edit(self, frame: dict[str, Any]) -> None:
        data = await database_sync_to_async(_edit_data)(
            user=self.user, message_id=_message_id(frame), body=frame.get("body")
        )
        self.send_frame({"type": "chat.changed", "message": data, "ref": frame.get("ref")})

    async def handle_chat_delete(self, frame: dict[str, Any]) -> None:
        data = await database_sync_to_async(_delete_data)(
            user=self.user, message_id=_message_id(frame), moderate=frame.get("moderate") is True
        )
        self.send_frame({"type": "chat.changed", "message": data, "ref": frame.get("ref")})

    async def handle_chat_read(self, frame: dict[str, Any]) -> None:
        membership = await database_sync_to_async(services.conversation_mark_read)(
            user=self.user, conversation_id=_conversation_id(frame), message_id=_message_position(frame)
        )
        self.send_frame(
            {
                "type": "chat.read.updated",
                "v": events.EVENT_VERSION,
                "conversation_id": membership.conversation_id,
                "last_read_message_id": membership.last_read_message_id,
                "ref": frame.get("ref"),
            }
        )

    async def handle_chat_typing(self, frame: dict[str, Any]) -> None:
        self._chat_state()
        conversation_id = _conversation_id(frame)
        if not self._following(conversation_id):
            raise ServiceError(ERROR_NOT_SUBSCRIBED, "Subscribe to the conversation first.")
        # Typing is a hint: extra frames are dropped silently rather than refused.
        if self._typing_rate.take():
            await events.typing(conversation_id, user_id=self.user.pk, username=self.user.get_username())

    async def handle_chat_presence(self, frame: dict[str, Any]) -> None:
        self._chat_state()
        status = frame.get("status")
        if status not in PRESENCE_STATUSES:
            raise ServiceError(ERROR_INVALID, f'"status" must be one of {", ".join(PRESENCE_STATUSES)}.')
        followed = self._followed_conversation_ids()
        if "conversation_ids" in frame:
            ids = set(_conversation_ids(frame))
            if not ids <= followed:
                raise ServiceError(ERROR_NOT_SUBSCRIBED, "Subscribe to the conversation first.")
        else:
            ids = followed
        if self._presence_rate.take():
            self._presence_told.update(ids)
            await self._announce_presence(ids, status)

    async def _announce_presence(self, ids: set[int], status: str) -> None:
        await events.presence(sorted(ids), user_id=self.user.pk, username=self.user.get_username(), status=status)

    async def disconnect(self, code: int) -> None:
        # The conversations this socket told it was here hear that it has gone; the user's other
        # tabs, which follow the same conversations, answer with their own presence.
        told = getattr(self, "_presence_told", None)
        if told and (told := told & self._followed_conversation_ids()):
            await self._announce_presence(told, PRESENCE_OFFLINE)
        await super().disconnect(code)
