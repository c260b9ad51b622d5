"""Delete uploads never confirmed or never sent (and their objects): run it daily, e.g. from cron
or a scheduled task. A lifecycle rule on the bucket cannot do it, as it does not know which
objects were sent."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from chat.attachments import attachments_purge


class Command(BaseCommand):
    help = "Delete chat attachments that were never confirmed or never sent, with their stored files."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than-hours",
            type=int,
            default=None,
            help="Age of the uploads to delete (default: STOCKCHAT_ATTACHMENT_UNSENT_HOURS).",
        )

    def handle(self, *args, older_than_hours: int | None = None, **options) -> None:
        hours = older_than_hours or settings.STOCKCHAT_ATTACHMENT_UNSENT_HOURS
        removed = attachments_purge(older_than=timedelta(hours=hours))
        self.stdout.write(f"Deleted {removed} unsent attachment(s) older than {hours} hours.")
