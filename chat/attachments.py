"""Images and files attached to messages: upload slots, confirmation, sending, reading, deleting.

The browser asks for an upload slot (``attachment_slot``), uploads the file itself, straight to
the private media bucket with a presigned POST whose policy pins the key, the size range and the
content type (on the embedded default, to an app endpoint that checks the same signed policy),
then confirms it (``attachment_confirm``). Confirming reads the object back: its size, and for an
image its real type (Pillow), its pixel count (before decoding, against decompression bombs); the
image is re-encoded without its metadata (EXIF, GPS) and a thumbnail made. Keys hold a random
uuid4 and a random token: no one can guess one, and every read goes through a members-only
redirect to a short-lived presigned URL (``attachment_download_url``); nothing is ever public.

Sending (``attachments_attach``) takes the uploader's own confirmed, unsent attachments of the
same conversation inside ``message_send``'s transaction; deleting a message deletes its objects
once the deletion commits (``attachments_discard``). ``purge_attachments`` removes uploads that
were never confirmed or never sent.
"""

from __future__ import annotations

import io
import re
import secrets
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from chat import selectors
from chat.models import Attachment, AttachmentKind, AttachmentStatus, Message
from core import ratelimit
from core.errors import NotFound, ServiceError
from core.inputs import has_forbidden_characters

ATTACHMENT_NOT_FOUND = "attachment_not_found"
INVALID_ATTACHMENT = "invalid_attachment"
TOO_LARGE = "too_large"
INVALID_IMAGE = "invalid_image"
IMAGE_TOO_LARGE = "image_too_large"
UPLOAD_MISSING = "upload_missing"
INVALID = "invalid"
RATE_LIMITED = "rate_limited"

MAX_PER_MESSAGE = 10
MAX_NAME_LENGTH = 120
THUMBNAIL_SIZE = 480
SLOT_SCOPE = "chat-attachment-slots"
SLOT_WINDOW = timedelta(minutes=1)
# Image types a slot may declare, and the Pillow format each must really be.
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
FORMAT_TYPES = {fmt: content_type for content_type, fmt in IMAGE_TYPES.items()}
# Every other file is stored and served as bytes to download, never as something a browser runs.
FILE_TYPE = "application/octet-stream"
UPLOAD_SALT = "chat.attachments.upload"
DOWNLOAD_SALT = "chat.attachments.download"


def attachment_not_found() -> NotFound:
    return NotFound("No such attachment.", code=ATTACHMENT_NOT_FOUND)


def max_bytes(kind: str) -> int:
    if kind == AttachmentKind.IMAGE:
        return settings.STOCKCHAT_ATTACHMENT_MAX_IMAGE_BYTES
    return settings.STOCKCHAT_ATTACHMENT_MAX_FILE_BYTES


def new_key() -> str:
    """``attachments/<uuid4 hex>/<random token>``: 250 random bits, unguessable and unique."""
    return f"attachments/{uuid.uuid4().hex}/{secrets.token_urlsafe(16)}"


def clean_name(name: object) -> str:
    """A file name safe to show and to put in Content-Disposition: the last path part, letters,
    digits and a few marks, at most ``MAX_NAME_LENGTH`` characters."""
    if not isinstance(name, str) or has_forbidden_characters(name):
        raise ServiceError(INVALID, "name must be a file name.", fields={"name": ["Not a file name."]})
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w.\- ()+,]", "_", name).strip(" .")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        name = f"{(stem if dot else name)[: MAX_NAME_LENGTH - len(ext) - 1]}{dot}{ext}"
    return name or "file"


# --- where the bytes live -----------------------------------------------------------------


def media_storage() -> Storage:
    return storages["default"]


def _is_s3(storage: Storage) -> bool:
    return hasattr(storage, "bucket_name") and hasattr(storage, "connection")


def _s3_key(storage: Storage, name: str) -> str:
    """The object key of a storage name (the storage adds its ``location``, e.g. ``media/``)."""
    return storage._normalize_name(name)


def upload_slot(*, key: str, content_type: str, limit: int, uploader_id: int) -> dict[str, Any]:
    """Where and how the browser uploads: ``{"url", "fields"}``, posted as multipart with the
    file last (the S3 presigned POST form; the embedded default takes the same form)."""
    storage = media_storage()
    expires = settings.STOCKCHAT_ATTACHMENT_UPLOAD_SECONDS
    if _is_s3(storage):
        client = storage.connection.meta.client
        return client.generate_presigned_post(
            Bucket=storage.bucket_name,
            Key=_s3_key(storage, key),
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, limit]],
            ExpiresIn=expires,
        )
    policy = signing.dumps({"k": key, "t": content_type, "m": limit, "u": uploader_id}, salt=UPLOAD_SALT)
    return {
        "url": reverse("api-attachment-upload"),
        "fields": {"key": key, "Content-Type": content_type, "policy": policy},
    }


@dataclass(frozen=True)
class LocalPolicy:
    key: str
    content_type: str
    limit: int
    uploader_id: int


def local_policy(token: object) -> LocalPolicy | None:
    """The signed policy of a slot on the embedded default, or None (forged or expired)."""
    if not isinstance(token, str):
        return None
    try:
        data = signing.loads(token, salt=UPLOAD_SALT, max_age=settings.STOCKCHAT_ATTACHMENT_UPLOAD_SECONDS)
    except signing.BadSignature:
        return None
    return LocalPolicy(key=data["k"], content_type=data["t"], limit=data["m"], uploader_id=data["u"])


def local_upload(policy: LocalPolicy, content) -> None:
    """Store an upload on the embedded default exactly at the policy's key (never renamed)."""
    storage = media_storage()
    pending = Attachment.objects.filter(
        upload_key=policy.key, uploader_id=policy.uploader_id, status=AttachmentStatus.PENDING
    )
    if storage.exists(policy.key) or not pending.exists():
        raise ServiceError(INVALID, "This upload slot was used already.")
    saved = storage.save(policy.key, content)
    if saved != policy.key:
        storage.delete(saved)
        raise ServiceError(INVALID, "This upload slot was used already.")


def _object_size(key: str) -> int | None:
    storage = media_storage()
    if _is_s3(storage):
        from botocore.exceptions import ClientError

        try:
            head = storage.connection.meta.client.head_object(Bucket=storage.bucket_name, Key=_s3_key(storage, key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return int(head["ContentLength"])
    return storage.size(key) if storage.exists(key) else None


def _read(key: str, limit: int) -> bytes:
    with media_storage().open(key, "rb") as handle:
        return handle.read(limit + 1)


def _write(key: str, data: bytes, content_type: str) -> None:
    storage = media_storage()
    content = ContentFile(data)
    content.content_type = content_type  # django-storages sends it as the object's Content-Type
    saved = storage.save(key, content)
    if saved != key:  # a fresh random key never exists; refuse rather than serve another name
        storage.delete(saved)
        raise RuntimeError(f"attachment key {key} was taken")


def _copy(source: str, target: str) -> None:
    storage = media_storage()
    if _is_s3(storage):
        storage.connection.meta.client.copy_object(
            Bucket=storage.bucket_name,
            Key=_s3_key(storage, target),
            CopySource={"Bucket": storage.bucket_name, "Key": _s3_key(storage, source)},
            ContentType=FILE_TYPE,
            MetadataDirective="REPLACE",
        )
        return
    with storage.open(source, "rb") as handle:
        saved = storage.save(target, handle)
    if saved != target:
        storage.delete(saved)
        raise RuntimeError(f"attachment key {target} was taken")


def delete_objects(keys: list[str]) -> None:
    storage = media_storage()
    for key in keys:
        if key:
            storage.delete(key)


def attachment_download_url(attachment: Attachment, *, thumbnail: bool = False) -> str:
    """A short-lived URL of the attachment's bytes (presigned on S3, signed by the app locally).
    Files download under their name; images show inline."""
    key = attachment.thumbnail_key if thumbnail and attachment.thumbnail_key else attachment.key
    if attachment.kind == AttachmentKind.IMAGE:
        content_type = attachment.content_type if key == attachment.key else _thumbnail_type(key)
        disposition = "inline"
    else:
        content_type = FILE_TYPE
        # RFC 6266: a plain ASCII fallback and the exact name in UTF-8.
        ascii_name = attachment.name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
        disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{_quote(attachment.name)}"
    storage = media_storage()
    if _is_s3(storage):
        return storage.url(
            key, parameters={"ResponseContentDisposition": disposition, "ResponseContentType": content_type}
        )
    token = signing.dumps({"k": key, "t": content_type, "d": disposition}, salt=DOWNLOAD_SALT)
    return reverse("api-attachment-blob", kwargs={"token": token})


def local_download(token: str) -> dict[str, str] | None:
    """The key, type and disposition signed into a local download URL, or None (forged or expired)."""
    try:
        return signing.loads(token, salt=DOWNLOAD_SALT, max_age=download_seconds())
    except signing.BadSignature:
        return None


def download_seconds() -> int:
    storage = media_storage()
    return int(getattr(storage, "querystring_expire", 300)) if _is_s3(storage) else 300


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def _thumbnail_type(key: str) -> str:
    return "image/png" if key.endswith(".png") else "image/jpeg"


# --- images -------------------------------------------------------------------------------------


@dataclass
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int
    thumbnail: bytes
    thumbnail_ext: str
    thumbnail_width: int
    thumbnail_height: int


def clean_image(data: bytes, *, max_pixels: int) -> CleanImage:
    """Check that ``data`` is a PNG, JPEG, GIF or WebP image within ``max_pixels`` and re-encode it
    without metadata (EXIF with GPS, comments, text chunks), turned upright; plus a thumbnail.

    The pixel count is read from the header and checked before any pixel is decoded, so a small
    file that declares huge dimensions costs nothing.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own limit and raises at twice it; this check is stricter.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format
                if fmt not in FORMAT_TYPES:
                    raise ServiceError(INVALID_IMAGE, "The file is not a PNG, JPEG, GIF or WebP image.")
                width, height = image.size
                if width * height > max_pixels:
                    raise ServiceError(IMAGE_TOO_LARGE, f"An image has at most {max_pixels} pixels.")
                image.seek(0)  # an animation shows its first frame
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ServiceError(IMAGE_TOO_LARGE, f"An image has at most {max_pixels} pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ServiceError(INVALID_IMAGE, "The file is not a PNG, JPEG, GIF or WebP image.") from None
    # Nothing of the original's metadata is carried over: a fresh info dict, no exif= on save.
    has_alpha = upright.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info
    upright.info = {key: image.info[key] for key in ("transparency",) if key in image.info}
    if fmt == "JPEG" and upright.mode not in {"RGB", "L"}:
        upright = upright.convert("RGB")
    out = io.BytesIO()
    upright.save(out, format=fmt, **({"quality": 90} if fmt in {"JPEG", "WEBP"} else {}))
    thumb = upright.convert("RGBA" if has_alpha else "RGB")
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    thumb_out = io.BytesIO()
    ext = "png" if has_alpha else "jpg"
    thumb.save(thumb_out, format="PNG" if has_alpha else "JPEG", **({} if has_alpha else {"quality": 85}))
    return CleanImage(
        data=out.getvalue(),
        content_type=FORMAT_TYPES[fmt],
        width=upright.width,
        height=upright.height,
        thumbnail=thumb_out.getvalue(),
        thumbnail_ext=ext,
        thumbnail_width=thumb.width,
        thumbnail_height=thumb.height,
    )


# --- services -------------------------------------------------------------------------------


def _check_slot_rate(user) -> None:
    """Upload slots a user may ask for in any minute, across processes (core/ratelimit.py, as
    message sends are)."""
    limit = settings.STOCKCHAT_ATTACHMENT_UPLOADS_PER_MINUTE
    decision = ratelimit.hit(SLOT_SCOPE, str(user.pk), limit=limit, window=int(SLOT_WINDOW.total_seconds()))
    if not decision.allowed:
        raise ServiceError(
            RATE_LIMITED,
            f"You can upload at most {limit} files a minute.",
            status=429,
            retry_after=decision.retry_after,
        )


def attachment_slot(
    *, user, conversation_id: object, name: object, content_type: object, size: object
) -> tuple[Attachment, dict[str, Any]]:
    """A pending attachment and the form to upload its bytes with (members of the conversation only)."""
    membership = selectors.membership_get(viewer=user, conversation_id=conversation_id)
    name = clean_name(name)
    declared = content_type.strip().lower() if isinstance(content_type, str) else ""
    kind = AttachmentKind.IMAGE if declared in IMAGE_TYPES else AttachmentKind.FILE
    stored_type = declared if kind == AttachmentKind.IMAGE else FILE_TYPE
    limit = max_bytes(kind)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ServiceError(INVALID, "size must be the file's size in bytes.", fields={"size": ["Not a size."]})
    if size > limit:
        raise ServiceError(TOO_LARGE, f"An attachment of this kind is at most {limit} bytes.")
    _check_slot_rate(user)
    attachment = Attachment.objects.create(
        conversation_id=membership.conversation_id,
        uploader=user,
        kind=kind,
        upload_key=new_key(),
        name=name,
        content_type=stored_type,
        size=size,
    )
    form = upload_slot(key=attachment.upload_key, content_type=stored_type, limit=limit, uploader_id=user.pk)
    return attachment, form


def _own_attachment(*, user, attachment_id: object) -> Attachment:
    attachment = None
    if user is not None and user.is_authenticated and isinstance(attachment_id, int):
        attachment = Attachment.objects.filter(pk=attachment_id, uploader=user).first()
    if attachment is None or not selectors.member_conversation_ids(
        viewer=user, conversation_ids=[attachment.conversation_id]
    ):
        raise attachment_not_found()
    return attachment


def attachment_confirm(*, user, attachment_id: object) -> Attachment:
    """Check the uploaded object and make the attachment ready to send (idempotent).

    Refused uploads are deleted with their row, so a bad file never lingers. The reading and
    re-encoding happen outside any transaction; the row is updated only if still pending.
    """
    attachment = _own_attachment(user=user, attachment_id=attachment_id)
    if attachment.status == AttachmentStatus.READY:
        return attachment
    limit = max_bytes(attachment.kind)
    size = _object_size(attachment.upload_key)
    if size is None:
        raise ServiceError(UPLOAD_MISSING, "Nothing was uploaded for this attachment yet.")
    try:
        if size > limit:
            raise ServiceError(TOO_LARGE, f"An attachment of this kind is at most {limit} bytes.")
        if attachment.kind == AttachmentKind.IMAGE:
            data = _read(attachment.upload_key, limit)
            if len(data) > limit:
                raise ServiceError(TOO_LARGE, f"An attachment of this kind is at most {limit} bytes.")
            image = clean_image(data, max_pixels=settings.STOCKCHAT_ATTACHMENT_MAX_IMAGE_PIXELS)
    except ServiceError:
        _refuse(attachment)
        raise
    made: list[str] = []
    fields: dict[str, Any] = {"status": AttachmentStatus.READY, "confirmed_at": timezone.now(), "size": size}
    if attachment.kind == AttachmentKind.IMAGE:
        # The upload still holds its metadata: the cleaned copy goes under a new key, the upload away.
        fields.update(
            key=new_key(),
            thumbnail_key=f"{new_key()}.{image.thumbnail_ext}",
            content_type=image.content_type,
            size=len(image.data),
            width=image.width,
            height=image.height,
            thumbnail_width=image.thumbnail_width,
            thumbnail_height=image.thumbnail_height,
        )
        _write(fields["key"], image.data, image.content_type)
        made.append(fields["key"])
        _write(fields["thumbnail_key"], image.thumbnail, _thumbnail_type(fields["thumbnail_key"]))
        made.append(fields["thumbnail_key"])
    else:
        # Copied to a key no upload form names: the slot's form, still valid for a few minutes,
        # cannot then swap the bytes members download for unchecked ones.
        fields["key"] = new_key()
        _copy(attachment.upload_key, fields["key"])
        made.append(fields["key"])
    with transaction.atomic():
        updated = Attachment.objects.filter(pk=attachment.pk, status=AttachmentStatus.PENDING).update(**fields)
    if not updated:
        # A concurrent confirm won (or the row was purged): keep its objects, drop these.
        delete_objects(made)
        return _own_attachment(user=user, attachment_id=attachment.pk)
    delete_objects([attachment.upload_key])
    attachment.refresh_from_db()
    return attachment


def _refuse(attachment: Attachment) -> None:
    delete_objects([attachment.upload_key])
    Attachment.objects.filter(pk=attachment.pk).delete()


def clean_attachment_ids(value: object) -> list[int]:
    """``attachment_ids`` of a send: a list of distinct ids, at most ``MAX_PER_MESSAGE``."""
    if value is None:
        return []
    if (
        not isinstance(value, list)
        or len(value) > MAX_PER_MESSAGE
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value)
        or len(set(value)) != len(value)
    ):
        raise ServiceError(
            INVALID_ATTACHMENT, f"attachment_ids must be a list of at most {MAX_PER_MESSAGE} distinct attachment ids."
        )
    return value


def attachments_attach(*, user, message: Message, attachment_ids: list[int]) -> None:
    """Give the message the user's confirmed, unsent attachments of its conversation.

    Precondition: inside the transaction that creates ``message``; a refusal rolls it back.
    """
    if not attachment_ids:
        return
    rows = list(
        Attachment.objects.select_for_update()
        .filter(
            pk__in=attachment_ids,
            uploader=user,
            conversation_id=message.conversation_id,
            status=AttachmentStatus.READY,
            message__isnull=True,
        )
        .values_list("pk", flat=True)
    )
    if len(rows) != len(attachment_ids):
        raise ServiceError(
            INVALID_ATTACHMENT, "Send only your own confirmed attachments, each once, in the conversation they are for."
        )
    Attachment.objects.filter(pk__in=rows).update(message=message)


def attachments_discard(message: Message) -> None:
    """Delete the message's attachments; their objects go once the deletion commits (a rollback
    keeps both). Precondition: inside the deleting transaction."""
    rows = list(Attachment.objects.filter(message=message).values_list("upload_key", "key", "thumbnail_key"))
    if not rows:
        return
    Attachment.objects.filter(message=message).delete()
    keys = sorted({key for row in rows for key in row if key})
    transaction.on_commit(lambda: delete_objects(keys))


def attachments_purge(*, older_than: timedelta) -> int:
    """Delete attachments never confirmed or never sent, created more than ``older_than`` ago, with
    their objects. Returns how many were removed."""
    cutoff = timezone.now() - older_than
    stale = Attachment.objects.filter(created_at__lt=cutoff, message__isnull=True)
    removed = 0
    for pk, upload_key, key, thumbnail_key in stale.values_list("pk", "upload_key", "key", "thumbnail_key"):
        # The row first: a confirm racing the purge then finds nothing to update.
        if Attachment.objects.filter(pk=pk, message__isnull=True).delete()[0]:
            delete_objects(sorted({upload_key, key, thumbnail_key} - {""}))
            removed += 1
    return removed


# --- reading --------------------------------------------------------------------------------


def attachment_for_member(*, viewer, attachment_id: object) -> Attachment:
    """A sent attachment of a message the viewer may read; NotFound for anyone else, alike."""
    attachment = None
    if viewer is not None and viewer.is_authenticated and isinstance(attachment_id, int):
        attachment = (
            Attachment.objects.filter(
                pk=attachment_id,
                message__isnull=False,
                message__deleted_at__isnull=True,
                conversation__in=selectors.member_conversations(viewer),
            )
            .only("pk", "kind", "key", "thumbnail_key", "name", "content_type")
            .first()
        )
    if attachment is None:
        raise attachment_not_found()
    return attachment
