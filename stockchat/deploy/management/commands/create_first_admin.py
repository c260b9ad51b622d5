"""The first administrator, from the environment, for a site with local accounts (the release step runs it)."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

VARIABLES = ("DJANGO_SUPERUSER_USERNAME", "DJANGO_SUPERUSER_EMAIL", "DJANGO_SUPERUSER_PASSWORD")


class Command(BaseCommand):
    help = (
        "Create a superuser from DJANGO_SUPERUSER_USERNAME, DJANGO_SUPERUSER_EMAIL and "
        "DJANGO_SUPERUSER_PASSWORD (the names Django's createsuperuser --noinput reads) when the "
        "site has no superuser yet. Once one exists it changes nothing, so it can run on every "
        "deploy: a password changed in the admin is never reset to the deployed one."
    )

    def handle(self, *args, **options) -> None:
        values = {name: os.environ.get(name, "").strip() for name in VARIABLES}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise CommandError(f"Set {', '.join(missing)} to create the first administrator.")
        User = get_user_model()
        with transaction.atomic():
            if User.objects.select_for_update().filter(is_superuser=True).exists():
                self.stdout.write("A superuser exists already; nothing changed.")
                return
            candidate = User(username=values["DJANGO_SUPERUSER_USERNAME"], email=values["DJANGO_SUPERUSER_EMAIL"])
            try:
                validate_password(values["DJANGO_SUPERUSER_PASSWORD"], user=candidate)
            except ValidationError as exc:
                raise CommandError(f"DJANGO_SUPERUSER_PASSWORD is refused: {' '.join(exc.messages)}") from None
            if User.objects.filter(username=candidate.username).exists():
                raise CommandError(
                    f"A user named {candidate.username!r} exists and is no superuser; choose another name."
                )
            User.objects.create_superuser(
                username=candidate.username, email=candidate.email, password=values["DJANGO_SUPERUSER_PASSWORD"]
            )
        self.stdout.write(self.style.SUCCESS(f"Superuser {candidate.username!r} created."))
