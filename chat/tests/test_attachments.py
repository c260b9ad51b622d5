"""Attachments on the embedded default (local storage): the whole flow, access, and one abuse
test per limit. The same flow against the S3-compatible server is in test_attachments_s3.py."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from chat import attachments, services
from chat.models import Attachment, AttachmentStatus, Message
from chat.tests.attachment_files import GPS_IFD, jpeg_with_gps, png, png_bomb, windows_exe
from chat.tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def slot(client, conversation_id, *, name="photo.png", content_type="image/png", size=100):
    return client.post(
        f"/api/v1/conversations/{conversation_id}/attachments",
        {"name": name, "content_type": content_type, "size": size},
        content_type="application/json",
    )


def post_form(form: dict, data: bytes, *, name: str = "upload.bin") -> int:
    """Upload as the browser does: the slot's fields, then the file, to the slot's URL (no cookie)."""
    upload = io.BytesIO(data)
    upload.name = name
    return Client().post(form["url"], {**form["fields"], "file": upload}).status_code


def upload(client, conversation_id, data: bytes, *, name="photo.png", content_type="image/png"):
    """Slot, upload and confirm; returns the confirm response."""
    response = slot(client, conversation_id, name=name, content_type=content_type, size=len(data))
    assert response.status_code == 201, response.json()
    assert post_form(response.json()["upload"], data) == 204
    return client.post(f"/api/v1/attachments/{response.json()['attachment']['id']}/confirm")


def send(client, conversation_id, ids, body=""):
    return client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        {"body": body, "attachment_ids": ids},
        content_type="application/json",
    )


def fetch(client, url: str):
    """Follow the members-only redirect to the bytes."""
    response = client.get(url)
    if response.status_code != 302:
        return response
    return Client().get(response["Location"])


def stored(attachment_id: int, field: str = "key") -> bytes:
    row = Attachment.objects.get(pk=attachment_id)
    with attachments.media_storage().open(getattr(row, field), "rb") as handle:
        return handle.read()


def test_image_and_file_sent_and_read_by_a_member(world):
    alice, bob = client_for(world.owner), client_for(world.member)
    image = upload(alice, world.group.pk, png(1200, 900)).json()
    report = upload(alice, world.group.pk, b"%PDF-1.4 quarterly", name="Q3 report.pdf", content_type="application/pdf")
    report = report.json()
    assert image["kind"] == "image"
    assert (image["width"], image["height"]) == (1200, 900)
    assert (image["thumbnail_width"], image["thumbnail_height"]) == (480, 360)
    assert report["kind"] == "file"
    assert report["name"] == "Q3 report.pdf"
    assert report["size"] == 18
    assert report["content_type"] == "application/octet-stream"

    response = send(alice, world.group.pk, [image["id"], report["id"]])
    assert response.status_code == 201, response.json()
    message = response.json()
    assert [a["id"] for a in message["attachments"]] == [image["id"], report["id"]]
    assert message["payload"] == {"kind": "attachments"}

    history = bob.get(f"/api/v1/conversations/{world.group.pk}/messages").json()["results"]
    seen = history[-1]["attachments"]
    full = fetch(bob, seen[0]["url"])
    assert full.status_code == 200
    assert full["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(b"".join(full.streaming_content))).size == (1200, 900)
    thumb = fetch(bob, seen[0]["thumbnail_url"])
    assert Image.open(io.BytesIO(b"".join(thumb.streaming_content))).size == (480, 360)
    document = fetch(bob, seen[1]["url"])
    assert b"".join(document.streaming_content) == b"%PDF-1.4 quarterly"
    assert document["Content-Disposition"].startswith('attachment; filename="Q3 report.pdf"')
    assert document["Content-Type"] == "application/octet-stream"


def test_outsider_anonymous_and_removed_member_get_nothing(world, make_user):
    alice = client_for(world.owner)
    image = upload(alice, world.group.pk, png()).json()
    send(alice, world.group.pk, [image["id"]])
    url = f"/api/v1/attachments/{image['id']}"
    assert client_for(world.member).get(url).status_code == 302
    outsider = client_for(world.outsider).get(url)
    assert (outsider.status_code, outsider.json()["code"]) == (404, "attachment_not_found")
    assert Client().get(url).status_code in {401, 403}
    services.member_remove(actor=world.owner, conversation_id=world.group.pk, user_id=world.member.pk)
    assert client_for(world.member).get(url).json()["code"] == "attachment_not_found"
    # Nor may an outsider ask for a slot in the conversation.
    assert slot(client_for(world.outsider), world.group.pk).json()["code"] == "conversation_not_found"


def test_unsent_attachment_is_not_readable_even_by_members(world):
    image = upload(client_for(world.owner), world.group.pk, png()).json()
    assert client_for(world.member).get(f"/api/v1/attachments/{image['id']}").status_code == 404


def test_foreign_or_unconfirmed_attachment_is_refused_with_400(world):
    alice, bob = client_for(world.owner), client_for(world.member)
    mine = upload(alice, world.group.pk, png()).json()
    pending = slot(alice, world.group.pk).json()["attachment"]
    before = Message.objects.count()
    for who, ids in [(bob, [mine["id"]]), (alice, [pending["id"]]), (alice, [mine["id"], mine["id"]])]:
        response = send(who, world.group.pk, ids, body="look")
        assert (response.status_code, response.json()["code"]) == (400, "invalid_attachment")
    # Nor in another conversation than the one it was uploaded for.
    response = send(alice, world.direct.pk, [mine["id"]])
    assert response.json()["code"] == "invalid_attachment"
    assert Message.objects.count() == before
    assert send(alice, world.group.pk, [mine["id"]]).status_code == 201
    # Sent once: it cannot ride a second message.
    assert send(alice, world.group.pk, [mine["id"]]).json()["code"] == "invalid_attachment"


def test_key_forgery_confirming_an_attachment_not_issued_to_you(world):
    """The upload form's key is fixed by the server; another user's attachment id is not found."""
    alice, bob = client_for(world.owner), client_for(world.member)
    form = slot(alice, world.group.pk).json()
    assert post_form(form["upload"], png()) == 204
    theft = bob.post(f"/api/v1/attachments/{form['attachment']['id']}/confirm")
    assert (theft.status_code, theft.json()["code"]) == (404, "attachment_not_found")
    # A form whose key was changed to another one is refused: the policy signs the key.
    other = slot(bob, world.group.pk).json()
    forged = {**other["upload"], "fields": {**other["upload"]["fields"], "key": form["upload"]["fields"]["key"]}}
    assert post_form(forged, png()) == 403
    tampered = {**other["upload"], "fields": {**other["upload"]["fields"], "policy": "x" + "y" * 40}}
    assert post_form(tampered, png()) == 403


def test_too_large_is_refused_at_the_slot_the_upload_and_the_confirm(world, settings):
    settings.STOCKCHAT_ATTACHMENT_MAX_IMAGE_BYTES = 1000
    alice = client_for(world.owner)
    big = bytes(range(256)) * 8  # 2048 bytes
    response = slot(alice, world.group.pk, size=len(big))
    assert (response.status_code, response.json()["code"]) == (400, "too_large")
    # Declared small, sent large: the upload endpoint refuses it, as S3's policy does.
    form = slot(alice, world.group.pk, size=500).json()
    assert post_form(form["upload"], big) == 400
    # Larger in storage anyway (the limit lowered after the upload): the confirm refuses and deletes it.
    form = slot(alice, world.group.pk, size=900).json()
    assert post_form(form["upload"], png()) == 204
    settings.STOCKCHAT_ATTACHMENT_MAX_IMAGE_BYTES = 10
    response = alice.post(f"/api/v1/attachments/{form['attachment']['id']}/confirm")
    assert (response.status_code, response.json()["code"]) == (400, "too_large")
    assert not Attachment.objects.filter(pk=form["attachment"]["id"]).exists()
    assert not attachments.media_storage().exists(form["upload"]["fields"]["key"])


def test_exe_renamed_png_is_refused_as_an_image(world, local_media):
    """Refused (400 invalid_image) and deleted, not kept as a file: the sender said it was an image."""
    response = upload(client_for(world.owner), world.group.pk, windows_exe(), name="cat.png")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_image")
    assert not Attachment.objects.exists()
    assert not [path for path in local_media.rglob("*") if path.is_file()]


def test_decompression_bomb_is_refused_before_decoding(world):
    bomb = png_bomb()
    assert len(bomb) < 2000
    response = upload(client_for(world.owner), world.group.pk, bomb)
    assert (response.status_code, response.json()["code"]) == (400, "image_too_large")


def test_pixel_limit_is_the_setting_not_only_pillows(world, settings):
    settings.STOCKCHAT_ATTACHMENT_MAX_IMAGE_PIXELS = 100 * 100
    alice = client_for(world.owner)
    assert upload(alice, world.group.pk, png(100, 100)).status_code == 200
    response = upload(alice, world.group.pk, png(101, 100))
    assert (response.status_code, response.json()["code"]) == (400, "image_too_large")


def test_exif_with_gps_is_stripped_from_the_image_and_thumbnail(world):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    response = upload(client_for(world.owner), world.group.pk, original, name="trip.jpg", content_type="image/jpeg")
    assert response.status_code == 200, response.json()
    attachment_id = response.json()["id"]
    for field in ("key", "thumbnail_key"):
        data = stored(attachment_id, field)
        image = Image.open(io.BytesIO(data))
        assert not image.getexif(), field
        assert b"SpyCam" not in data
        assert b"Exif" not in data
    # The upload, which held the EXIF, is gone.
    row = Attachment.objects.get(pk=attachment_id)
    assert not attachments.media_storage().exists(row.upload_key)


def test_upload_slots_are_rate_limited(world, settings):
    settings.STOCKCHAT_ATTACHMENT_UPLOADS_PER_MINUTE = 3
    alice = client_for(world.owner)
    assert [slot(alice, world.group.pk).status_code for _ in range(3)] == [201, 201, 201]
    response = slot(alice, world.group.pk)
    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")
    assert int(response["Retry-After"]) >= 1


def test_confirm_twice_is_idempotent_and_confirm_before_upload_is_refused(world):
    alice = client_for(world.owner)
    form = slot(alice, world.group.pk).json()
    url = f"/api/v1/attachments/{form['attachment']['id']}/confirm"
    assert alice.post(url).json()["code"] == "upload_missing"
    assert post_form(form["upload"], png()) == 204
    first, second = alice.post(url).json(), alice.post(url).json()
    assert first == second
    # The form is spent: a second upload to the same key is refused.
    assert post_form(form["upload"], png()) == 400


def test_deleting_the_message_deletes_its_objects(world, django_capture_on_commit_callbacks):
    alice = client_for(world.owner)
    image = upload(alice, world.group.pk, png()).json()
    message = send(alice, world.group.pk, [image["id"]]).json()
    row = Attachment.objects.get(pk=image["id"])
    storage = attachments.media_storage()
    assert storage.exists(row.key)
    assert storage.exists(row.thumbnail_key)
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.delete(f"/api/v1/messages/{message['id']}").status_code == 204
    assert not storage.exists(row.key)
    assert not storage.exists(row.thumbnail_key)
    assert not Attachment.objects.exists()
    assert client_for(world.member).get(f"/api/v1/attachments/{image['id']}").status_code == 404


def test_purge_removes_unconfirmed_and_unsent_uploads_only(world):
    alice = client_for(world.owner)
    sent = upload(alice, world.group.pk, png()).json()
    send(alice, world.group.pk, [sent["id"]])
    unsent = upload(alice, world.group.pk, png()).json()
    pending = slot(alice, world.group.pk).json()
    post_form(pending["upload"], png())
    fresh = slot(alice, world.group.pk).json()["attachment"]
    Attachment.objects.exclude(pk=fresh["id"]).update(created_at=timezone.now() - timedelta(hours=25))
    keys = {pk: Attachment.objects.get(pk=pk).upload_key for pk in (unsent["id"], pending["attachment"]["id"])}
    out = io.StringIO()
    call_command("purge_attachments", stdout=out)
    assert "2" in out.getvalue()
    assert set(Attachment.objects.values_list("pk", flat=True)) == {sent["id"], fresh["id"]}
    storage = attachments.media_storage()
    assert not storage.exists(keys[pending["attachment"]["id"]])
    assert storage.exists(Attachment.objects.get(pk=sent["id"]).key)
    assert Attachment.objects.get(pk=sent["id"]).status == AttachmentStatus.READY


def test_names_are_sanitized():
    assert attachments.clean_name("../../etc/passwd") == "passwd"
    assert attachments.clean_name("C:\\Users\\me\\a<b>.txt") == "a_b_.txt"
    assert attachments.clean_name("...") == "file"
    long = attachments.clean_name("x" * 300 + ".pdf")
    assert len(long) == attachments.MAX_NAME_LENGTH
    assert long.endswith(".pdf")


def test_attachment_payload_over_the_socket_frame_shape(world):
    """The broadcast data (socket frames) carries the same attachments as REST."""
    alice = client_for(world.owner)
    image = upload(alice, world.group.pk, png()).json()
    message = services.message_send(
        user=world.owner, conversation_id=world.group.pk, body="hi", attachment_ids=[image["id"]]
    )
    from chat.selectors import message_broadcast_data

    data = message_broadcast_data(Message.objects.get(pk=message.pk))
    assert data["attachments"] == [image]


def test_an_image_of_another_format_is_refused_whatever_it_is_called(world):
    """Pillow reads BMP, TIFF and others; only PNG, JPEG, GIF and WebP are taken as images."""
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="BMP")
    response = upload(client_for(world.owner), world.group.pk, out.getvalue(), name="photo.png")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_image")


def _ready(user, conversation) -> Attachment:
    key = attachments.new_key()
    return Attachment.objects.create(
        conversation=conversation,
        uploader=user,
        kind="file",
        status=AttachmentStatus.READY,
        upload_key=key,
        key=key,
        name="a.txt",
        content_type=attachments.FILE_TYPE,
        size=1,
    )


def test_history_page_and_api_queries_do_not_grow_with_attachments(world, settings):
    """The chat page and the history API cost the same at 1x and 10x messages with attachments."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.STOCKCHAT_CHAT_SENDS_PER_MINUTE = 1000
    alice = client_for(world.owner)

    def send_some(count: int) -> None:
        for _ in range(count):
            ids = [_ready(world.owner, world.group).pk for _ in range(2)]
            services.message_send(user=world.owner, conversation_id=world.group.pk, body="", attachment_ids=ids)

    def cost() -> tuple[int, int]:
        counts = []
        for url in (f"/chat/{world.group.pk}/", f"/api/v1/conversations/{world.group.pk}/messages"):
            with CaptureQueriesContext(connection) as captured:
                assert alice.get(url).status_code == 200
            counts.append(len(captured))
        return tuple(counts)

    send_some(1)
    small = cost()
    send_some(9)
    assert cost() == small
    page = alice.get(f"/chat/{world.group.pk}/").content.decode()
    assert page.count('class="attachment-file"') == 20


def test_an_expired_upload_form_is_refused(world, settings, monkeypatch):
    import time

    form = slot(client_for(world.owner), world.group.pk).json()
    later = time.time() + settings.STOCKCHAT_ATTACHMENT_UPLOAD_SECONDS + 1
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert post_form(form["upload"], png()) == 403
