"""collectstatic that compares content, not modification times, on S3."""

from __future__ import annotations

from django.contrib.staticfiles.management.commands.collectstatic import Command as BaseCommand
from django.core.files.storage import Storage


class Command(BaseCommand):
    def delete_file(self, path: str, prefixed_path: str, source_storage: Storage) -> bool:
        # Files in a freshly built image all look newer than what S3 holds;
        # asking the storage whether it already has these bytes avoids
        # uploading every file again on every deploy.
        # A changed file needs no delete first: the upload replaces the object.
        holds = getattr(self.storage, "holds", None)
        if holds is None:
            return super().delete_file(path, prefixed_path, source_storage)
        with source_storage.open(path) as source_file:
            if not holds(prefixed_path, source_file):
                return True
        if prefixed_path not in self.unmodified_files:
            self.unmodified_files.append(prefixed_path)
        self.log(f"Skipping '{path}' (same content on S3)")
        return False
