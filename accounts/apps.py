from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and sign-in"

    def ready(self) -> None:
        # Registers the authentication schemes with drf-spectacular.
        # Registers the password-reset mail check.
        from accounts import (
            checks,  # noqa: F401
            schema,  # noqa: F401
        )
