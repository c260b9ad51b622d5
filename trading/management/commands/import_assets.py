from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from trading.formats.listing import COLUMNS, ListingFileError, read_listing_file
from trading.services.listing import listing_import

# Problems printed before "… and N more": enough to fix a file in a few passes, not a wall of text.
ERRORS_SHOWN = 50


class Command(BaseCommand):
    help = (
        "Create or update the listed stocks from a CSV file (header: "
        f"{','.join(COLUMNS)}; symbol and name required) or a JSON array of objects with the same keys. "
        "The whole file is checked first: every bad row is reported with its line and nothing is changed. "
        "Importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="CSV or JSON listing, e.g. trading/data/listing.csv")

    def handle(self, *args, file: str, **options):
        show_progress = self.stderr.isatty()

        def progress(count: int) -> None:
            if show_progress:
                self.stderr.write(f"\rchecking {file}: {count} rows", ending="")

        rows, errors = read_listing_file(file, progress=progress)
        if show_progress:
            self.stderr.write("\r" + " " * 60 + "\r", ending="")
        try:
            if errors:
                raise ListingFileError(file, errors)
            if show_progress:
                self.stderr.write(f"writing {len(rows)} rows…")
            result = listing_import(rows=rows, path=file)
        except ListingFileError as exc:
            for error in exc.errors[:ERRORS_SHOWN]:
                self.stderr.write(f"{file}, {error}")
            if len(exc.errors) > ERRORS_SHOWN:
                self.stderr.write(f"… and {len(exc.errors) - ERRORS_SHOWN} more")
            raise CommandError(f"Nothing was imported: {len(exc.errors)} problem(s) in {file}.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{file}: {result.created} stock(s) created, {result.updated} updated, {result.unchanged} unchanged."
            )
        )
