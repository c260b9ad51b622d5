"""Attachments against a real S3-compatible server (SeaweedFS on loopback): the browser's
presigned POST, the policy's limits enforced by the server, presigned GETs for members only,
and no public way in (private objects, no listing, no unsigned reads)."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from django.test import Client
from PIL import Image

from chat import attachments
from chat.models import Attachment
from chat.tests.attachment_files import GPS_IFD, jpeg_with_gps, png
from chat.tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def s3(s3_server, settings, monkeypatch):
    """A fresh private media bucket, used as stockchat/deploy/config.py configures it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        region_name=s3_server.region,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
    )
    bucket = f"media-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "stockchat.deploy.storage.PrivateMediaS3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "region_name": s3_server.region,
                "default_acl": None,
                "signature_version": "s3v4",
                "endpoint_url": s3_server.endpoint_url,
                "addressing_style": "path",
                "location": "media",
                "querystring_expire": 300,
            },
        },
    }
    client.bucket = bucket
    client.endpoint = s3_server.endpoint_url
    yield client
    client.close()


def slot(client, conversation_id, *, name="photo.png", content_type="image/png", size=100) -> dict:
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/attachments",
        {"name": name, "content_type": content_type, "size": size},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def browser_post(form: dict, data: bytes, *, fields: dict | None = None) -> requests.Response:
    """What the browser sends: the presigned form's fields, the file last, straight to S3."""
    return requests.post(
        form["url"], data={**form["fields"], **(fields or {})}, files={"file": ("upload", data)}, timeout=30
    )


def confirm(client, attachment_id: int):
    return client.post(f"/api/v1/attachments/{attachment_id}/confirm")


def follow(client, url: str) -> requests.Response:
    response = client.get(url)
    assert response.status_code == 302, getattr(response, "json", lambda: None)()
    return requests.get(response["Location"], timeout=30)


def object_keys(s3) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=s3.bucket).get("Contents", [])]


def test_browser_uploads_to_s3_and_a_member_reads_through_presigned_urls(world, s3):
    alice, bob = client_for(world.owner), client_for(world.member)
    image_slot = slot(alice, world.group.pk, name="trip.jpg", content_type="image/jpeg", size=50_000)
    assert image_slot["upload"]["url"].startswith(s3.endpoint)
    assert image_slot["upload"]["fields"]["key"].startswith("media/attachments/")
    assert browser_post(image_slot["upload"], jpeg_with_gps()).status_code == 204
    image = confirm(alice, image_slot["attachment"]["id"]).json()
    file_slot = slot(alice, world.group.pk, name="notes.txt", content_type="text/plain", size=5)
    assert browser_post(file_slot["upload"], b"hello").status_code == 204
    report = confirm(alice, file_slot["attachment"]["id"]).json()
    sent = alice.post(
        f"/api/v1/conversations/{world.group.pk}/messages",
        {"body": "from the trip", "attachment_ids": [image["id"], report["id"]]},
        content_type="application/json",
    )
    assert sent.status_code == 201, sent.json()

    full = follow(bob, image["url"])
    assert full.status_code == 200
    assert full.headers["Content-Type"] == "image/jpeg"
    cleaned = Image.open(io.BytesIO(full.content))
    assert cleaned.size == (800, 600)
    assert not cleaned.getexif().get_ifd(GPS_IFD)
    thumb = follow(bob, image["thumbnail_url"])
    assert Image.open(io.BytesIO(thumb.content)).size == (480, 360)
    download = follow(bob, report["url"])
    assert download.content == b"hello"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="notes.txt"')
    assert download.headers["Content-Type"] == "application/octet-stream"
    # The uploads (one with the EXIF) are gone; what remains is what members read.
    row = Attachment.objects.get(pk=image["id"])
    assert sorted(object_keys(s3)) == sorted(
        f"media/{key}" for key in (row.key, row.thumbnail_key, Attachment.objects.get(pk=report["id"]).key)
    )


def test_nothing_is_public(world, s3):
    alice = client_for(world.owner)
    form = slot(alice, world.group.pk)
    browser_post(form["upload"], png())
    image = confirm(alice, form["attachment"]["id"]).json()
    alice.post(
        f"/api/v1/conversations/{world.group.pk}/messages",
        {"body": "", "attachment_ids": [image["id"]]},
        content_type="application/json",
    )
    key = f"media/{Attachment.objects.get(pk=image['id']).key}"
    # The object's URL without a signature, and the bucket's listing: refused by the server.
    for url in (
        f"{s3.endpoint}/{s3.bucket}/{key}",
        f"{s3.endpoint}/{s3.bucket}",
        f"{s3.endpoint}/{s3.bucket}?list-type=2",
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)  # noqa: S310 - loopback test server
        assert refused.value.code == 403, url
    # No grant to everyone on the object.
    grants = s3.get_object_acl(Bucket=s3.bucket, Key=key)["Grants"]
    assert not [g for g in grants if "AllUsers" in json.dumps(g.get("Grantee", {}))]
    # Outsider and anonymous get no redirect at all.
    assert client_for(world.outsider).get(image["url"]).status_code == 404
    assert Client().get(image["url"]).status_code in {401, 403}


def test_policy_refuses_a_larger_upload_at_s3(world, s3, settings):
    settings.STOCKCHAT_ATTACHMENT_MAX_FILE_BYTES = 1000
    form = slot(client_for(world.owner), world.group.pk, name="a.bin", content_type="application/zip", size=900)
    refused = browser_post(form["upload"], b"x" * 1001)
    assert refused.status_code == 400
    assert "EntityTooLarge" in refused.text
    assert object_keys(s3) == []


def test_confirm_refuses_an_object_larger_than_the_limit(world, s3, settings):
    """Larger in the bucket anyway (written past the form): refused at confirm, and deleted."""
    settings.STOCKCHAT_ATTACHMENT_MAX_FILE_BYTES = 1000
    alice = client_for(world.owner)
    form = slot(alice, world.group.pk, name="a.bin", content_type="application/zip", size=900)
    s3.put_object(Bucket=s3.bucket, Key=form["upload"]["fields"]["key"], Body=b"x" * 5000)
    response = confirm(alice, form["attachment"]["id"])
    assert (response.status_code, response.json()["code"]) == (400, "too_large")
    assert object_keys(s3) == []


def test_policy_pins_the_key_and_the_content_type(world, s3):
    alice = client_for(world.owner)
    form = slot(alice, world.group.pk)
    other_key = form["upload"]["fields"]["key"].rsplit("/", 1)[0] + "/chosen-by-me"
    assert browser_post(form["upload"], png(), fields={"key": other_key}).status_code == 403
    assert browser_post(form["upload"], png(), fields={"Content-Type": "text/html"}).status_code == 403
    assert object_keys(s3) == []


def test_deleting_the_message_deletes_its_objects_on_s3(world, s3, django_capture_on_commit_callbacks):
    alice = client_for(world.owner)
    form = slot(alice, world.group.pk)
    browser_post(form["upload"], png())
    image = confirm(alice, form["attachment"]["id"]).json()
    message = alice.post(
        f"/api/v1/conversations/{world.group.pk}/messages",
        {"body": "x", "attachment_ids": [image["id"]]},
        content_type="application/json",
    ).json()
    assert len(object_keys(s3)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.delete(f"/api/v1/messages/{message['id']}").status_code == 204
    assert object_keys(s3) == []
    with pytest.raises(ClientError):
        s3.head_object(Bucket=s3.bucket, Key=f"media/{form['upload']['fields']['key']}")
    assert attachments.attachment_not_found().code == "attachment_not_found"


def test_the_upload_form_cannot_swap_a_confirmed_files_bytes(world, s3):
    """The form stays valid for minutes after the confirm; what members read is a copy under a key
    no form names, so a second upload through it changes nothing they get."""
    alice = client_for(world.owner)
    form = slot(alice, world.group.pk, name="terms.txt", content_type="text/plain", size=8)
    assert browser_post(form["upload"], b"checked!").status_code == 204
    report = confirm(alice, form["attachment"]["id"]).json()
    alice.post(
        f"/api/v1/conversations/{world.group.pk}/messages",
        {"body": "", "attachment_ids": [report["id"]]},
        content_type="application/json",
    )
    assert browser_post(form["upload"], b"swapped!").status_code == 204
    assert follow(client_for(world.member), report["url"]).content == b"checked!"
