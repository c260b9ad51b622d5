"""Static and media files on a real S3-compatible server (SeaweedFS on loopback)."""

from __future__ import annotations

import os
import re
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from botocore.compat import get_current_datetime
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client

LOGO = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def http_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback test server
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class PutCounter:
    """Counts the upload requests the storage's boto3 client really sends."""

    def __init__(self, storage) -> None:
        self.keys: list[str] = []
        storage.connection.meta.client.meta.events.register("before-send.s3.PutObject", self._seen)
        storage.connection.meta.client.meta.events.register("before-send.s3.CreateMultipartUpload", self._seen)

    def _seen(self, request, **kwargs) -> None:
        self.keys.append(request.url.rsplit("/", 1)[-1].split("?")[0])


@pytest.fixture
def static_sources(tmp_path, settings) -> Path:
    """A small static tree of the site's own kind, with a stylesheet that references an image."""
    root = tmp_path / "static-src"
    (root / "css").mkdir(parents=True)
    (root / "img").mkdir()
    (root / "js").mkdir()
    (root / "css" / "site.css").write_text('body { background: url("../img/logo.png"); }\n')
    (root / "img" / "logo.png").write_bytes(LOGO)
    (root / "js" / "app.js").write_text("console.log('stockchat');\n")
    settings.STATICFILES_DIRS = [root]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    return root


def collectstatic() -> PutCounter:
    counter = PutCounter(staticfiles_storage)
    call_command("collectstatic", interactive=False, verbosity=0)
    return counter


def keys_in(s3_client, bucket: str) -> set[str]:
    return {obj["Key"] for obj in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_collectstatic_uploads_hashed_files_once_and_then_only_changes(
    use_s3_settings, static_sources, s3_client, buckets
):
    use_s3_settings()
    first = collectstatic()
    keys = keys_in(s3_client, buckets["static"])
    assert "static/staticfiles.json" in keys
    assert any(re.fullmatch(r"static/css/site\.[0-9a-f]{12}\.css", key) for key in keys)
    assert any(re.fullmatch(r"static/img/logo\.[0-9a-f]{12}\.png", key) for key in keys)
    assert len(first.keys) >= 7  # 3 originals, 3 hashed copies, the manifest

    # A fresh image: same bytes, every file newer than what S3 holds.
    later = time.time() + 3600
    for path in static_sources.rglob("*"):
        os.utime(path, (later, later))
    second = collectstatic()
    assert second.keys == []

    # One changed file: it, its hashed copy, the stylesheet that embeds its
    # hashed name (and that stylesheet's new hashed copy) and the manifest.
    (static_sources / "img" / "logo.png").write_bytes(LOGO + b"v2")
    third = collectstatic()
    assert "logo.png" in third.keys
    assert "app.js" not in third.keys
    assert not any(key.startswith("app.") for key in third.keys)
    assert "staticfiles.json" in third.keys


def test_pages_reference_static_files_on_s3_and_anyone_can_read_them(use_s3_settings, db, s3_client, buckets):
    computed = use_s3_settings()
    call_command("collectstatic", interactive=False, verbosity=0)
    page = Client().get("/").content.decode()
    match = re.search(r'href="([^"]+/static/css/stockchat\.[0-9a-f]{12}\.css)"', page)
    assert match, page
    url = match.group(1)
    assert url.startswith(computed["STATIC_URL"])
    assert f"/{buckets['static']}/static/" in url
    status, body = http_get(url)
    assert status == 200
    assert body == (Path(__file__).resolve().parents[3] / "static" / "css" / "stockchat.css").read_bytes()


def test_pages_reference_the_cloudfront_domain_when_set(use_s3_settings, db):
    use_s3_settings()
    call_command("collectstatic", interactive=False, verbosity=0)
    computed = use_s3_settings(AWS_CLOUDFRONT_DOMAIN="d111111abcdef8.cloudfront.net")
    assert computed["STATIC_URL"] == "https://d111111abcdef8.cloudfront.net/static/"
    response = Client().get("/")
    assert re.search(
        r'href="https://d111111abcdef8\.cloudfront\.net/static/css/stockchat\.[0-9a-f]{12}\.css"',
        response.content.decode(),
    )
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' https://d111111abcdef8.cloudfront.net;" in policy


def test_media_upload_round_trips_through_a_presigned_url(use_s3_settings, s3_client, buckets):
    use_s3_settings()
    name = default_storage.save("logos/acme.png", ContentFile(LOGO))
    url = default_storage.url(name)
    assert "X-Amz-Signature=" in url
    assert f"/{buckets['media']}/media/logos/" in url
    assert http_get(url) == (200, LOGO)
    # Saving the same name again keeps both files.
    assert default_storage.save("logos/acme.png", ContentFile(b"other")) != name


def test_private_media_is_refused_to_anonymous_readers(use_s3_settings, s3_server, buckets):
    use_s3_settings()
    name = default_storage.save("logos/private.png", ContentFile(LOGO))
    plain_url = default_storage.url(name).split("?")[0]
    status, body = http_get(plain_url)
    assert status == 403
    assert LOGO not in body
    acl = default_storage.connection.meta.client.get_object_acl(Bucket=buckets["media"], Key=f"media/{name}")
    assert all("AllUsers" not in str(grant.get("Grantee", {})) for grant in acl["Grants"])


def test_an_expired_presigned_url_is_refused(use_s3_settings, settings):
    use_s3_settings()
    name = default_storage.save("logos/expiring.png", ContentFile(LOGO))
    expire = settings.STORAGES["default"]["OPTIONS"]["querystring_expire"]
    an_hour_ago = get_current_datetime() - timedelta(hours=1)
    # Signed an hour ago with the configured lifetime (minutes): the server must refuse it.
    with mock.patch("botocore.auth.get_current_datetime", return_value=an_hour_ago):
        url = default_storage.url(name)
    assert f"X-Amz-Expires={expire}" in url
    status, body = http_get(url)
    assert status == 403
    assert LOGO not in body
    assert http_get(default_storage.url(name)) == (200, LOGO)
