from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import module_has_submodule


class Command(BaseCommand):
    help = (
        "Load the demo data (an admin, demo traders, market data and conversations) that "
        "`make run` shows. Safe to run again: what exists already is left unchanged. Demo "
        "passwords are published, so this refuses to run with DJANGO_DEBUG off unless "
        "--allow-without-debug is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Load demo data even though DJANGO_DEBUG is off (never on a public site).",
        )

    def handle(self, *args, allow_without_debug: bool = False, **options):
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError(
                "Refusing to load demo accounts with published passwords while DJANGO_DEBUG is "
                "off. Pass --allow-without-debug if this is not a public site."
            )
        # Each app that has a `demo` module with `load_demo(log)` contributes, in
        # INSTALLED_APPS order (people before the accounts and chats that need them).
        for app_config in apps.get_app_configs():
            if not module_has_submodule(app_config.module, "demo"):
                continue
            demo = import_module(f"{app_config.name}.demo")
            demo.load_demo(log=lambda line, label=app_config.label: self.stdout.write(f"[{label}] {line}"))
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
