from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from trading.formats.bars import BarFileError, read_bar_file
from trading.services.bars import bars_import


class Command(BaseCommand):
    help = (
        "Import historical price bars from CSV files with the header "
        "symbol,interval,start,open,high,low,close,volume (interval 1d or 1m, optional, default 1d; "
        "start an ISO 8601 date or date-time, UTC when no zone is given). Every file is checked before "
        "anything is written: a malformed row stops the import with the file and line, and nothing is "
        "imported. Importing the same bars again updates them in place instead of duplicating them."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="CSV files to import")

    def handle(self, *args, files: list[str], **options):
        rows = []
        show_progress = self.stderr.isatty() if hasattr(self.stderr, "isatty") else sys.stderr.isatty()
        try:
            for number, path in enumerate(files, start=1):
                count_before = len(rows)
                for row in read_bar_file(path):
                    rows.append(row)
                    if show_progress and len(rows) % 5000 == 0:
                        self.stderr.write(f"\rreading {path} ({number}/{len(files)}): {len(rows)} rows", ending="")
                self.stdout.write(f"{path}: {len(rows) - count_before} rows read")
            if show_progress:
                self.stderr.write("\r" + " " * 60 + "\r", ending="")
            written, stocks = bars_import(rows=rows)
        except BarFileError as exc:
            raise CommandError(f"Nothing was imported. {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(f"Imported {written} bars for {stocks} stock(s) from {len(files)} file(s).")
        )
