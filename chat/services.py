"""Every chat write: the one path for the API, the WebSocket, the admin and the demo data.

Each service owns its transaction, checks access (membership, ownership)
first, writes, and schedules its events on commit (``chat.events``).
Sending a message locks the conversation row, so messages of one
conversation are numbered and committed in the same order and a reader that
resumes after an id never skips one still being written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Required, TypedDict, Unpack

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from chat import attachments, events
from chat.models import (
    MAX_BODY_LENGTH,
    MAX_CLIENT_MESSAGE_ID_LENGTH,
    MAX_TITLE_LENGTH,
    Conversation,
    ConversationKind,
    MemberRole,
    Membership,
    Mention,
    Message,
)
from chat.selectors import (
    USER_MENTION,
    conversation_not_found,
    member_data,
    memberships_of,
    message_broadcast_data,
    message_get,
    with_replies,
)
from core import ratelimit
from core.errors import NotFound, ServiceError
from core.inputs import parse_id
from core.money import price_text
from trading.models import Fill
from trading.selectors import POSITION_NOT_FOUND, position_get, stock_get

INVALID = "invalid"
BODY_TOO_LONG = "body_too_long"
EMPTY_MESSAGE = "empty_message"
RATE_LIMITED = "rate_limited"
NOT_AN_OWNER = "not_an_owner"
NOT_THE_AUTHOR = "not_the_author"
USER_NOT_FOUND = "user_not_found"
FILL_NOT_FOUND = "fill_not_found"
ALREADY_MEMBER = "already_member"
CANNOT_REMOVE_SELF = "cannot_remove_self"
NOT_ALLOWED_HERE = "not_allowed_here"
MESSAGE_DELETED = "message_deleted"
INVALID_REPLY_TO = "invalid_reply_to"

GROUP_TITLE_REQUIRED = f"A group needs a title of 1 to {MAX_TITLE_LENGTH} characters."
MAX_GROUP_MEMBERS = 200
SEND_SCOPE = "chat.send"
SEND_WINDOW_SECONDS = 60


def _sends_per_minute() -> int:
    return settings.STOCKCHAT_CHAT_SENDS_PER_MINUTE


def _user_by_username(username: object):
    User = get_user_model()
    user = None
    if isinstance(username, str) and username:
        user = User.objects.filter(**{User.USERNAME_FIELD: username}, is_active=True).first()
    if user is None:
        raise NotFound(f"No user named {str(username)[:150]!r}.", code=USER_NOT_FOUND)
    return user


def _clean_body(body: object, *, allow_empty: bool = False) -> str:
    if not isinstance(body, str):
        raise ServiceError(INVALID, "body must be text.")
    body = body.strip()
    if len(body) > MAX_BODY_LENGTH:
        raise ServiceError(BODY_TOO_LONG, f"A message is at most {MAX_BODY_LENGTH} characters.")
    if not body and not allow_empty:
        raise ServiceError(EMPTY_MESSAGE, "A message needs some text.")
    return body


def _clean_client_message_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_CLIENT_MESSAGE_ID_LENGTH:
        raise ServiceError(
            INVALID, f"client_message_id must be text of 1 to {MAX_CLIENT_MESSAGE_ID_LENGTH} characters."
        )
    return value


def _membership_for_update(*, user, conversation_id: object) -> Membership:
    """The user's membership, with the conversation row locked (caller is in a transaction)."""
    if user is None or not user.is_authenticated or isinstance(conversation_id, bool):
        raise conversation_not_found()
    try:
        pk = int(conversation_id)
    except (TypeError, ValueError):
        raise conversation_not_found() from None
    conversation = Conversation.objects.select_for_update(of=("self",)).select_related("stock").filter(pk=pk).first()
    membership = None
    if conversation is not None:
        membership = memberships_of(user).filter(conversation=conversation).first()
    if membership is None:
        raise conversation_not_found()
    membership.conversation = conversation
    return membership


def _require_owner(membership: Membership) -> None:
    if membership.role != MemberRole.OWNER:
        raise ServiceError(NOT_AN_OWNER, "Only an owner of the group may do this.", status=403)


def _announce_new(conversation: Conversation, user_ids: list[int]) -> None:
    events.conversation_added(events.conversation_brief(conversation), user_ids=user_ids)


# --- conversations ----------------------------------------------------------------------------


def direct_key(user_a_id: int, user_b_id: int) -> str:
    low, high = sorted((user_a_id, user_b_id))
    return f"{low}:{high}"


def direct_start(*, user, other_username: str) -> Conversation:
    """The direct conversation between ``user`` and the named user, created or reopened.

    Either side may have left it; starting it again brings both back, with the history.
    """
    other = _user_by_username(other_username)
    if other.pk == user.pk:
        raise ServiceError(INVALID, "A direct conversation needs another person.")
    key = direct_key(user.pk, other.pk)
    for attempt in range(2):
        try:
            with transaction.atomic():
                conversation, _ = Conversation.objects.get_or_create(
                    direct_key=key, defaults={"kind": ConversationKind.DIRECT, "created_by": user}
                )
                joined = []
                for person in (user, other):
                    _, new = Membership.objects.get_or_create(
                        conversation=conversation, user=person, defaults={"role": MemberRole.MEMBER}
                    )
                    if new:
                        joined.append(person.pk)
                if joined:
                    _announce_new(conversation, joined)
                return conversation
        except IntegrityError:
            # Both people started it at the same moment; the other transaction won, use its row.
            if attempt:
                raise
    raise AssertionError("unreachable")


def group_create(*, user, title: str, member_usernames: list[str] | None = None) -> Conversation:
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > MAX_TITLE_LENGTH:
        raise ServiceError(INVALID, GROUP_TITLE_REQUIRED)
    names = list(dict.fromkeys(member_usernames or []))
    if len(names) >= MAX_GROUP_MEMBERS:
        raise ServiceError(INVALID, f"A group has at most {MAX_GROUP_MEMBERS} members.")
    others = [_user_by_username(name) for name in names]
    with transaction.atomic():
        conversation = Conversation.objects.create(kind=ConversationKind.GROUP, title=title.strip(), created_by=user)
        Membership.objects.create(conversation=conversation, user=user, role=MemberRole.OWNER)
        for other in others:
            if other.pk != user.pk:
                Membership.objects.create(conversation=conversation, user=other, role=MemberRole.MEMBER)
        _announce_new(conversation, [user.pk, *(o.pk for o in others if o.pk != user.pk)])
    return conversation


def stock_room_join(*, user, symbol: str) -> Conversation:
    """The room of a stock the user may see, joined (idempotent). Hidden stocks are not found."""
    stock = stock_get(viewer=user, symbol=symbol)
    for attempt in range(2):
        try:
            with transaction.atomic():
                conversation, _ = Conversation.objects.get_or_create(
                    stock=stock, defaults={"kind": ConversationKind.STOCK, "title": f"${stock.symbol}"}
                )
                membership, joined = Membership.objects.get_or_create(conversation=conversation, user=user)
                if joined:
                    _announce_new(conversation, [user.pk])
                    events.member_changed(events.MEMBER_JOINED, conversation.pk, member_data(membership))
                return conversation
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def member_add(*, actor, conversation_id: object, username: str) -> Membership:
    mine = _membership_for_update(user=actor, conversation_id=conversation_id)
    if mine.conversation.kind != ConversationKind.GROUP:
        raise ServiceError(NOT_ALLOWED_HERE, "Members can be added to groups only.")
    _require_owner(mine)
    user = _user_by_username(username)
    if Membership.objects.filter(conversation=mine.conversation, user=user).exists():
        raise ServiceError(ALREADY_MEMBER, f"{user.get_username()} is already a member.", status=409)
    if Membership.objects.filter(conversation=mine.conversation).count() >= MAX_GROUP_MEMBERS:
        raise ServiceError(INVALID, f"A group has at most {MAX_GROUP_MEMBERS} members.")
    membership = Membership.objects.create(conversation=mine.conversation, user=user, role=MemberRole.MEMBER)
    events.member_changed(events.MEMBER_JOINED, mine.conversation_id, member_data(membership))
    _announce_new(mine.conversation, [user.pk])
    return membership


def _remove(membership: Membership, *, reason: str) -> None:
    conversation_id = membership.conversation_id
    data = member_data(membership)
    membership.delete()
    # Leave first: the removed user's sockets stop following before the others hear of it.
    events.conversation_removed(conversation_id, user_id=data["user"]["id"], reason=reason)
    events.member_changed(events.MEMBER_LEFT, conversation_id, data)


@transaction.atomic
def member_remove(*, actor, conversation_id: object, user_id: object, moderate: bool = False) -> None:
    """Remove a member of a group: by one of its owners, or by staff moderating (``moderate``)."""
    if moderate and actor.is_staff:
        conversation = Conversation.objects.select_for_update(of=("self",)).filter(pk=conversation_id).first()
        if conversation is None:
            raise conversation_not_found()
    else:
        mine = _membership_for_update(user=actor, conversation_id=conversation_id)
        conversation = mine.conversation
        if conversation.kind != ConversationKind.GROUP:
            raise ServiceError(NOT_ALLOWED_HERE, "Members can be removed from groups only.")
        _require_owner(mine)
        if str(user_id) == str(actor.pk):
            raise ServiceError(CANNOT_REMOVE_SELF, "Leave the conversation instead of removing yourself.")
    target = Membership.objects.select_related("user").filter(conversation=conversation, user_id=user_id).first()
    if target is None:
        raise NotFound("No such member.", code="member_not_found")
    _remove(target, reason="removed")


@transaction.atomic
def conversation_leave(*, user, conversation_id: object) -> None:
    """Leave a conversation. A group's last owner hands ownership to the longest-standing member."""
    mine = _membership_for_update(user=user, conversation_id=conversation_id)
    if mine.role == MemberRole.OWNER:
        owners = Membership.objects.filter(conversation=mine.conversation, role=MemberRole.OWNER)
        if not owners.exclude(pk=mine.pk).exists():
            heir = (
                Membership.objects.filter(conversation=mine.conversation)
                .exclude(pk=mine.pk)
                .order_by("joined_at", "id")
                .first()
            )
            if heir is not None:
                heir.role = MemberRole.OWNER
                heir.save(update_fields=["role"])
    mine.user = user
    _remove(mine, reason="left")


@transaction.atomic
def conversation_set_muted(*, user, conversation_id: object, muted: bool) -> Membership:
    mine = _membership_for_update(user=user, conversation_id=conversation_id)
    mine.muted = bool(muted)
    mine.save(update_fields=["muted"])
    return mine


# --- messages --------------------------------------------------------------------------------


def _check_rate(user) -> None:
    # In the cache (core/ratelimit.py), not by counting the user's messages in the table: one
    # atomic step, so sends racing in from several sockets cannot all read the same count. Not
    # strict: while Redis is down messages are still sent, unlimited, as when the count was a query.
    limit = _sends_per_minute()
    decision = ratelimit.hit(SEND_SCOPE, str(user.pk), limit=limit, window=SEND_WINDOW_SECONDS)
    if not decision.allowed:
        raise ServiceError(
            RATE_LIMITED,
            f"You can send at most {limit} messages a minute; wait a little and send it again.",
            status=429,
            retry_after=decision.retry_after,  # until a message fits in the minute's limit
        )


# --- replies and mentions ---------------------------------------------------------------------

# Names looked up per message: a body of 4,000 characters could name hundreds.
MAX_MENTIONS = 50


def _reply_target(conversation: Conversation, reply_to: object) -> Message | None:
    """The message ``reply_to`` names, in ``conversation`` (caller has checked membership, so a
    non-member hears conversation_not_found first). Any other id, another conversation's
    included, is the same 400: a reply cannot probe for messages elsewhere."""
    if reply_to is None:
        return None
    pk = parse_id(reply_to) if isinstance(reply_to, int | str) else None
    target = None
    if pk is not None:
        target = Message.objects.select_related("author").filter(pk=pk, conversation_id=conversation.pk).first()
    if target is None:
        raise ServiceError(INVALID_REPLY_TO, "reply_to must be the id of a message in this conversation.")
    return target


def _mentioned_members(conversation_id: int, body: str, *, author) -> list:
    """The members (other than the author) that ``body`` names with ``@username``; usernames
    are unique whatever their case, so a mention matches whatever case it is typed in."""
    names = list(dict.fromkeys(name.rstrip(".").lower() for name in USER_MENTION.findall(body)))[:MAX_MENTIONS]
    names = [name for name in names if name]
    if not names:
        return []
    User = get_user_model()
    field = User.USERNAME_FIELD
    lookup = Q()
    for name in names:
        lookup |= Q(**{f"{field}__iexact": name})
    members = Membership.objects.filter(conversation_id=conversation_id).values("user_id")
    people = User.objects.filter(lookup, pk__in=members).exclude(pk=author.pk).order_by("pk")
    return list(people)


def _write_mentions(message: Message, people: list) -> None:
    """Store who ``message`` mentions: the list readers highlight and the rows counts read."""
    message.mentions = [{"id": person.pk, "username": person.get_username()} for person in people]
    Mention.objects.filter(message=message).exclude(user__in=people).delete()
    Mention.objects.bulk_create([Mention(message=message, user=person) for person in people], ignore_conflicts=True)


@dataclass(frozen=True)
class Sent:
    """What ``message_submit`` did: the message, and whether its client_message_id named one sent before."""

    message: Message
    replayed: bool


class MessageFields(TypedDict, total=False):
    """``message_submit``'s keyword arguments besides ``user``."""

    conversation_id: Required[object]
    body: Required[str]
    client_message_id: str | None
    payload: dict[str, Any] | None
    attachment_ids: object
    reply_to: object


def message_send(*, user, **fields: Unpack[MessageFields]) -> Message:
    """``message_submit``'s message, for callers that do not ask whether it was a replay."""
    return message_submit(user=user, **fields).message


def message_submit(
    *,
    user,
    conversation_id: object,
    body: str,
    client_message_id: str | None = None,
    payload: dict[str, Any] | None = None,
    attachment_ids: object = None,
    reply_to: object = None,
) -> Sent:
    """Save a message and send it to the members on commit.

    ``attachment_ids``: the sender's confirmed attachments to carry (``chat.attachments``); a
    message of attachments alone has the payload ``{"kind": "attachments"}``.

    With a ``client_message_id`` already used by the user in this conversation, the saved
    message comes back unchanged (``Sent.replayed`` is True) and nothing is sent again.
    ``reply_to``: the id of a message of the same conversation that this one answers.
    ``@username`` of a member in the body mentions them (``Message.mentions``).
    """
    attachment_ids = attachments.clean_attachment_ids(attachment_ids)
    if attachment_ids and payload is None:
        payload = {"kind": "attachments"}
    body = _clean_body(body, allow_empty=payload is not None)
    client_message_id = _clean_client_message_id(client_message_id)
    try:
        with transaction.atomic():
            mine = _membership_for_update(user=user, conversation_id=conversation_id)
            if client_message_id is not None:
                existing = _existing(user, mine.conversation_id, client_message_id)
                if existing is not None:
                    return Sent(existing, replayed=True)
            reply = _reply_target(mine.conversation, reply_to)
            _check_rate(user)
            conversation = mine.conversation
            conversation.last_seq += 1
            Conversation.objects.filter(pk=conversation.pk).update(last_seq=conversation.last_seq)
            message = Message.objects.create(
                conversation=conversation,
                seq=conversation.last_seq,
                author=user,
                body=body,
                payload=payload,
                client_message_id=client_message_id,
                reply_to=reply,
            )
            message.author = user
            attachments.attachments_attach(user=user, message=message, attachment_ids=attachment_ids)
            people = _mentioned_members(conversation.pk, body, author=user)
            if people:
                _write_mentions(message, people)
                message.save(update_fields=["mentions"])
            # The author has read their own message.
            Membership.objects.filter(pk=mine.pk).update(last_read_message_id=message.pk)
            events.message_changed(events.MESSAGE_CREATED, message_broadcast_data(message))
            return Sent(message, replayed=False)
    except IntegrityError:
        # The same client id committed by a concurrent request (a resend racing the original).
        if client_message_id is None:
            raise
        existing = _existing(user, conversation_id, client_message_id)
        if existing is None:
            raise
        return Sent(existing, replayed=True)


def _existing(user, conversation_id: object, client_message_id: str) -> Message | None:
    return (
        with_replies(Message.objects)
        .filter(author=user, conversation_id=conversation_id, client_message_id=client_message_id)
        .first()
    )


def fill_share(
    *, user, conversation_id: object, fill_id: object, body: str = "", client_message_id: str | None = None
) -> Message:
    """Share one of the user's own fills into a conversation as a structured message."""
    payload = fill_payload(user=user, fill_id=fill_id)
    return message_send(
        user=user, conversation_id=conversation_id, body=body, client_message_id=client_message_id, payload=payload
    )


def fill_payload(*, user, fill_id: object) -> dict[str, Any]:
    """The payload of a message sharing one of the user's own fills (``message_submit(payload=...)``)."""
    fill = None
    if isinstance(fill_id, int | str) and str(fill_id).isdigit():
        fill = Fill.objects.select_related("stock").filter(pk=int(fill_id), account__user=user).first()
    if fill is None:
        raise NotFound("No such fill among yours.", code=FILL_NOT_FOUND)
    return {
        "kind": "fill",
        "fill": {
            "id": fill.pk,
            "symbol": fill.stock.symbol,
            "side": fill.side,
            "quantity": fill.quantity,
            "price": str(fill.price),
            "executed_at": fill.executed_at.isoformat(),
        },
    }


def position_share(
    *, user, conversation_id: object, symbol: object, body: str = "", client_message_id: str | None = None
) -> Message:
    """Share the user's own open position in a stock as a structured message."""
    payload = position_payload(user=user, symbol=symbol)
    return message_send(
        user=user, conversation_id=conversation_id, body=body, client_message_id=client_message_id, payload=payload
    )


def position_payload(*, user, symbol: object) -> dict[str, Any]:
    """The payload of a message sharing the user's own open position in a stock: a snapshot of
    the shares held and their average cost (the card shows the live price beside it)."""
    if not isinstance(symbol, str) or not symbol:
        raise NotFound("No open position in that stock.", code=POSITION_NOT_FOUND)
    position = position_get(viewer=user, symbol=symbol)  # the user's own, or position_not_found
    return {
        "kind": "position",
        "position": {
            "symbol": position.stock.symbol,
            "side": "long",
            "quantity": position.quantity,
            # At a price's four places, like a fill's.
            "price": price_text(position.average_cost),
            "as_of": timezone.now().isoformat(),
        },
    }


def _own_message_for_update(*, user, message_id: object) -> Message:
    message = message_get(viewer=user, message_id=message_id)
    message = Message.objects.select_for_update(of=("self",)).select_related("author").get(pk=message.pk)
    if message.author_id != user.pk:
        raise ServiceError(NOT_THE_AUTHOR, "Only the author may change a message.", status=403)
    if message.deleted_at is not None:
        raise ServiceError(MESSAGE_DELETED, "The message was deleted.", status=409)
    return message


@transaction.atomic
def message_edit(*, user, message_id: object, body: str) -> Message:
    message = _own_message_for_update(user=user, message_id=message_id)
    message.body = _clean_body(body, allow_empty=message.payload is not None)
    message.edited_at = timezone.now()
    _write_mentions(message, _mentioned_members(message.conversation_id, message.body, author=user))
    message.save(update_fields=["body", "edited_at", "mentions"])
    events.message_changed(events.MESSAGE_EDITED, message_broadcast_data(message))
    return message


@transaction.atomic
def message_delete(*, user, message_id: object, moderate: bool = False) -> Message:
    """Delete a message: its author, or staff moderating (``moderate``). The id stays as a
    blank tombstone, so readers that resume see that it is gone."""
    if moderate and user.is_staff:
        message = Message.objects.select_for_update(of=("self",)).select_related("author").filter(pk=message_id).first()
        if message is None:
            raise NotFound("No such message.", code="message_not_found")
        if message.deleted_at is not None:
            return message
    else:
        message = _own_message_for_update(user=user, message_id=message_id)
    attachments.attachments_discard(message)
    message.body = ""
    message.payload = None
    message.deleted_at = timezone.now()
    _write_mentions(message, [])
    message.save(update_fields=["body", "payload", "deleted_at", "mentions"])
    events.message_changed(events.MESSAGE_DELETED, message_broadcast_data(message))
    return message


@transaction.atomic
def conversation_mark_read(*, user, conversation_id: object, message_id: object) -> Membership:
    """Move the read marker forward to ``message_id`` (never back; capped at the newest message)."""
    mine = _membership_for_update(user=user, conversation_id=conversation_id)
    if isinstance(message_id, bool) or not isinstance(message_id, int) or message_id < 0:
        raise ServiceError(INVALID, "message_id must be a message id (a whole number).")
    newest = (
        Message.objects.filter(conversation_id=mine.conversation_id, id__lte=message_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if newest is not None and newest > mine.last_read_message_id:
        mine.last_read_message_id = newest
        mine.save(update_fields=["last_read_message_id"])
        events.read_updated(mine.conversation_id, user_id=user.pk, last_read_message_id=newest)
    return mine
