"""Conversations, memberships and messages.

Every invariant that a database can hold is a constraint here: one direct
conversation per pair of users, one room per stock, one membership per user
and conversation, one message per client message id and author, a bounded
body. Writes go through ``chat.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

MAX_BODY_LENGTH = 4000
MAX_TITLE_LENGTH = 100
MAX_CLIENT_MESSAGE_ID_LENGTH = 64


class ConversationKind(models.TextChoices):
    DIRECT = "direct", "Direct"
    GROUP = "group", "Group"
    STOCK = "stock", "Stock room"


class Conversation(models.Model):
    kind = models.CharField(max_length=6, choices=ConversationKind.choices)
    title = models.CharField(max_length=MAX_TITLE_LENGTH, blank=True)
    # "<smaller user id>:<larger user id>": the database keeps one direct conversation per pair.
    direct_key = models.CharField(max_length=41, unique=True, null=True, blank=True, editable=False)
    stock = models.OneToOneField(
        "trading.Stock", on_delete=models.PROTECT, null=True, blank=True, related_name="chat_room"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The seq of the newest message; written under this row's lock by chat.services.message_send.
    last_seq = models.BigIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ConversationKind.values), name="chat_conversation_kind"),
            models.CheckConstraint(condition=Q(last_seq__gte=0), name="chat_conversation_last_seq"),
            models.CheckConstraint(
                condition=Q(kind=ConversationKind.DIRECT, direct_key__isnull=False)
                | Q(~Q(kind=ConversationKind.DIRECT), direct_key__isnull=True),
                name="chat_conversation_direct_has_pair_key",
            ),
            models.CheckConstraint(
                condition=Q(kind=ConversationKind.STOCK, stock__isnull=False)
                | Q(~Q(kind=ConversationKind.STOCK), stock__isnull=True),
                name="chat_conversation_stock_room_has_stock",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ConversationKind.GROUP) | ~Q(title=""),
                name="chat_conversation_group_has_title",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == ConversationKind.STOCK and self.stock_id:
            return f"${self.stock.symbol}"
        return self.title or f"{self.get_kind_display()} #{self.pk}"


class MemberRole(models.TextChoices):
    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"


class Membership(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships")
    role = models.CharField(max_length=6, choices=MemberRole.choices, default=MemberRole.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    # The id of the newest message the member has read (0: none); not a foreign
    # key, so deleting messages never touches memberships.
    last_read_message_id = models.BigIntegerField(default=0)
    muted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "conversation"], name="chat_membership_unique"),
            models.CheckConstraint(condition=Q(role__in=MemberRole.values), name="chat_membership_role"),
            models.CheckConstraint(condition=Q(last_read_message_id__gte=0), name="chat_membership_last_read"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.conversation_id} ({self.role})"


class Message(models.Model):
    # Ids increase with every message; clients resume from the last id they saw.
    id = models.BigAutoField(primary_key=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # 1, 2, 3... within the conversation, without holes: a client that sees a jump missed messages.
    seq = models.BigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="chat_messages"
    )
    body = models.TextField(blank=True)
    # Structured content (a shared fill), rendered by the client from data, never from HTML.
    payload = models.JSONField(null=True, blank=True)
    # NULL, not "", for "none": the unique constraint applies to given ids only.
    client_message_id = models.CharField(max_length=MAX_CLIENT_MESSAGE_ID_LENGTH, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # --- replies and mentions ---
    # The message this one answers, in the same conversation (chat.services checks it).
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The members named with @username, as [{"id": .., "username": ..}] when the body was written:
    # what readers highlight, read with the message at no extra query. ``Mention`` rows (the
    # same people) are what unread counts are made from.
    mentions = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), MAX_BODY_LENGTH), name="chat_message_body_length"
            ),
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=False) | ~Q(body="") | Q(payload__isnull=False),
                name="chat_message_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True) | Q(body="", payload__isnull=True),
                name="chat_message_deleted_is_blank",
            ),
            models.CheckConstraint(condition=Q(seq__gt=0), name="chat_message_seq_positive"),
            models.UniqueConstraint(fields=["conversation", "seq"], name="chat_message_seq_unique"),
            models.UniqueConstraint(
                fields=["author", "conversation", "client_message_id"],
                condition=Q(client_message_id__isnull=False),
                name="chat_message_client_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="chat_message_history"),
            models.Index(fields=["author", "created_at"], name="chat_message_author_recent"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} in {self.conversation_id}"


class Mention(models.Model):
    """A member named with ``@username`` in a message; written with the message by chat.services."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mention_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_mentions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="chat_mention_unique")]
        indexes = [models.Index(fields=["user", "message"], name="chat_mention_user")]

    def __str__(self) -> str:
        return f"@{self.user_id} in #{self.message_id}"
