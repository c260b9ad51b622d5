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
    # Counts and first names per reaction, rewritten by chat.reactions under this row's lock from
    # the Reaction rows: a page of messages reads its reactions with no query of its own.
    reaction_summary = models.JSONField(default=list, blank=True, editable=False)
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


class AttachmentKind(models.TextChoices):
    IMAGE = "image", "Image"
    FILE = "file", "File"


class AttachmentStatus(models.TextChoices):
    # A slot was issued; the browser may be uploading. Expires (purge_attachments) if never confirmed.
    PENDING = "pending", "Pending"
    # Checked by chat.attachments.attachment_confirm; may be sent with a message.
    READY = "ready", "Ready"


class Attachment(models.Model):
    """An image or file uploaded for a message, stored under keys no one can guess.

    Written only by ``chat.attachments``. ``message`` is set when the uploader sends it.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="attachments")
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_attachments")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments")
    kind = models.CharField(max_length=5, choices=AttachmentKind.choices)
    status = models.CharField(max_length=7, choices=AttachmentStatus.choices, default=AttachmentStatus.PENDING)
    # Where the browser uploads (issued with the slot); for an image, the cleaned copy replaces it.
    upload_key = models.CharField(max_length=200, unique=True)
    # What members download: the cleaned image, or the uploaded file as it is.
    key = models.CharField(max_length=200, blank=True)
    thumbnail_key = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    thumbnail_width = models.PositiveIntegerField(null=True, blank=True)
    thumbnail_height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AttachmentKind.values), name="chat_attachment_kind"),
            models.CheckConstraint(condition=Q(status__in=AttachmentStatus.values), name="chat_attachment_status"),
            models.CheckConstraint(condition=Q(size__gte=0), name="chat_attachment_size"),
            # Only a confirmed attachment can belong to a message.
            models.CheckConstraint(
                condition=Q(message__isnull=True) | Q(status=AttachmentStatus.READY), name="chat_attachment_sent_ready"
            ),
        ]
        indexes = [
            models.Index(fields=["uploader", "created_at"], name="chat_attachment_recent"),
            models.Index(fields=["status", "created_at"], name="chat_attachment_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.pk})"


# --- reactions ------------------------------------------------------------------------------

# The one list of reactions: name (what the API, the socket and GraphQL take) -> emoji shown.
REACTIONS = {
    "thumbs_up": "\N{THUMBS UP SIGN}",
    "heart": "\N{HEAVY BLACK HEART}\N{VARIATION SELECTOR-16}",
    "joy": "\N{FACE WITH TEARS OF JOY}",
    "open_mouth": "\N{FACE WITH OPEN MOUTH}",
    "cry": "\N{CRYING FACE}",
    "tada": "\N{PARTY POPPER}",
}
MAX_REACTION_NAME_LENGTH = 16


class Reaction(models.Model):
    """One person's reaction to a message; written only by chat.reactions."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_reactions")
    name = models.CharField(max_length=MAX_REACTION_NAME_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "name"], name="chat_reaction_unique"),
            models.CheckConstraint(condition=Q(name__in=list(REACTIONS)), name="chat_reaction_name"),
        ]
        indexes = [
            models.Index(fields=["message", "name", "id"], name="chat_reaction_message"),
            models.Index(fields=["user", "created_at"], name="chat_reaction_user_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.name} by {self.user_id} on {self.message_id}"


class Mention(models.Model):
    """A member named with ``@username`` in a message; written with the message by chat.services."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mention_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_mentions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="chat_mention_unique")]
        indexes = [models.Index(fields=["user", "message"], name="chat_mention_user")]

    def __str__(self) -> str:
        return f"@{self.user_id} in #{self.message_id}"
