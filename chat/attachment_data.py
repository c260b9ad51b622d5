"""Attachments as message payloads carry them (REST, socket, GraphQL, the server-rendered page).

Apart from ``chat.attachments`` (the writes), which reads membership through ``chat.selectors``:
the selectors render messages with this module, which imports neither.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.db.models.query import prefetch_related_objects
from django.urls import reverse

from chat.models import Attachment, AttachmentKind, Message


def prefetch_attachments(messages: list[Message]) -> None:
    """One query for the attachments of all ``messages``, whatever their number."""
    prefetch_related_objects(messages, Prefetch("attachments", queryset=Attachment.objects.order_by("id")))


def attachment_data(attachment: Attachment) -> dict[str, Any]:
    """An attachment as message payloads carry it. ``url`` and ``thumbnail_url`` are the app's
    members-only redirects to fresh presigned URLs: the payload itself never expires."""
    url = reverse("api-attachment", kwargs={"attachment_id": attachment.pk})
    image = attachment.kind == AttachmentKind.IMAGE
    return {
        "id": attachment.pk,
        "kind": attachment.kind,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": url,
        "thumbnail_url": f"{url}?variant=thumbnail" if image else None,
        "width": attachment.width,
        "height": attachment.height,
        "thumbnail_width": attachment.thumbnail_width,
        "thumbnail_height": attachment.thumbnail_height,
    }


def attachments_of(message: Message) -> list[dict[str, Any]]:
    return [attachment_data(a) for a in message.attachments.all()]
