from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from trading.books import books_violations


class Command(BaseCommand):
    help = (
        "Check that every trading account's books balance: cash equals the sum of its ledger, "
        "positions equal the sum of their fills, reservations equal what open orders hold, and "
        "nothing is negative. Prints each violation and exits with status 1 if there is any."
    )

    def handle(self, *args, **options):
        problems = books_violations()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} violation(s) found.")
        self.stdout.write(self.style.SUCCESS("The books balance."))
