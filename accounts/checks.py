"""System checks for sign-in settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from core.mail import UNCONFIGURED_BACKEND


@checks.register(checks.Tags.security, deploy=True)
def password_reset_mail_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Local accounts with no mail backend: password resets would never arrive.

    An Info, not a Warning: a site that signs in through a provider needs no
    mail, and the deployment checklist fails on warnings.
    """
    if settings.AUTH_PROVIDER == "local" and settings.EMAIL_BACKEND == UNCONFIGURED_BACKEND:
        return [
            checks.Info(
                "Local accounts are on but no mail backend is configured: password-reset mail is not sent.",
                hint="Set EMAIL_URL (smtp://user:password@host:587) or STOCKCHAT_EMAIL_BACKEND=ses, "
                "and DEFAULT_FROM_EMAIL (docs/configuration.md, E-mail).",
                id="accounts.I001",
            )
        ]
    return []
