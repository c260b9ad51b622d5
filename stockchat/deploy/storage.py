"""S3 storages: static files with hashed names, private media with presigned URLs.

Static files are uploaded by ``collectstatic`` at deploy time. A Docker build
gives every file a new modification time, so the usual "skip if older" test of
collectstatic would upload everything on every deploy; these storages compare
content instead (the MD5 of the local file against the object's ETag) and only
upload what changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files.base import File
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

CHUNK_SIZE = 1024 * 1024


def md5_of(content: File) -> str:
    """Hex MD5 of a file's content, leaving it rewound for the upload that may follow."""
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in content.chunks(CHUNK_SIZE):  # chunks() starts from the beginning
        digest.update(chunk if isinstance(chunk, bytes) else chunk.encode())
    content.seek(0)
    return digest.hexdigest()


class ContentAwareS3Storage(S3Storage):
    """An S3 storage that does not upload a file S3 already holds byte for byte."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.uploaded: list[str] = []
        self.unchanged: list[str] = []

    def stored_md5(self, name: str) -> str | None:
        """The MD5 S3 reports for ``name`` (its ETag), or None when absent or multipart."""
        key = self._normalize_name(clean_name(name))
        try:
            head = self.connection.meta.client.head_object(Bucket=self.bucket_name, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        etag = head.get("ETag", "").strip('"')
        # A multipart upload's ETag is not the MD5 of the object ("<md5>-<parts>").
        return None if "-" in etag else etag

    def holds(self, name: str, content: File) -> bool:
        return self.stored_md5(name) == md5_of(content)

    def _save(self, name: str, content: File) -> str:
        if self.holds(name, content):
            self.unchanged.append(name)
            return clean_name(name)
        saved = super()._save(name, content)
        self.uploaded.append(name)
        return saved


class StaticS3Storage(ManifestFilesMixin, ContentAwareS3Storage):
    """Static files on S3 with content-hashed names, read through the manifest.

    Public reads come from the bucket policy or CloudFront, never from object
    ACLs, so the URLs are plain (unsigned) ones.
    """

    def __init__(self, **settings: Any) -> None:
        settings.setdefault("default_acl", None)
        settings.setdefault("querystring_auth", False)
        settings.setdefault("file_overwrite", True)
        super().__init__(**settings)
        self._replacing = False

    def delete(self, name: str) -> None:
        # While post-processing, Django deletes a hashed file or the manifest
        # just before saving it again under the same name. An S3 PUT replaces
        # the object anyway, and skipping the delete lets _save keep an
        # identical object instead of uploading it again.
        if self._replacing:
            return
        super().delete(name)

    def post_process(self, *args: Any, **kwargs: Any) -> Iterator[tuple[str, str, bool]]:
        self._replacing = True
        try:
            yield from super().post_process(*args, **kwargs)
        finally:
            self._replacing = False


class PrivateMediaS3Storage(S3Storage):
    """Uploaded files in a private bucket: no ACLs, every URL presigned and short-lived."""

    def __init__(self, **settings: Any) -> None:
        settings.setdefault("default_acl", None)
        settings.setdefault("querystring_auth", True)
        # Two uploads with the same name must not replace each other.
        settings.setdefault("file_overwrite", False)
        settings.setdefault("custom_domain", None)
        super().__init__(**settings)
