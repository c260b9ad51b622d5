from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_token_create
from core.inputs import has_forbidden_characters


class Command(BaseCommand):
    help = (
        "Create a personal API token for USERNAME and print it once (it is stored only as a hash). "
        "For scripts and bots on a server where no browser signs in; the account page makes and "
        "revokes tokens too."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="the account the token acts as")
        parser.add_argument("--name", default="script", help="a label to recognise the token by (default: script)")

    def handle(self, *args, username: str, name: str, **options):
        if has_forbidden_characters(name):
            raise CommandError("The name contains a control character.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"{username!r} is deactivated: a token of theirs would be refused.")
        _, secret = api_token_create(user=user, name=name)
        self.stdout.write(secret)
