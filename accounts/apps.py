from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and sign-in"

    def ready(self) -> None:
        # Registers the authentication schemes with drf-spectacular.
        from accounts import schema  # noqa: F401
