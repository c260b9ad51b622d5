"""Outgoing e-mail (password resets) configured from the environment.

``mail_settings(environ, debug=...)`` turns the variables into Django's
``EMAIL_*`` settings:

- ``EMAIL_URL=smtp://user:password@host:587``: SMTP with STARTTLS (required);
  ``smtps://user:password@host:465``: SMTP over TLS from the first byte. User
  and password are percent-decoded (SES SMTP passwords contain ``/`` and ``+``).
  ``?starttls=false`` sends in clear, and is accepted only for a relay on this
  machine (127.0.0.1, ::1, localhost).
- ``STOCKCHAT_EMAIL_BACKEND=ses``: Amazon SES's API (v2) through django-ses and
  boto3, with the credentials boto3 finds (the task or instance role) and
  ``AWS_SES_REGION_NAME`` or ``AWS_REGION``.
- neither: the console in debug (the message, reset link included, is printed
  for the developer); with debug off nothing is sent and each message is an
  ERROR log line that names the variables to set (never the message body: a
  reset link is a credential). Sites signing in through a provider have no
  local passwords to reset and need no mail at all, so this is not a start-up
  error; ``manage.py check --deploy`` reports it for local accounts.

This module is imported by ``stockchat/settings.py``: it must not import models.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

from core.env import env_str

logger = logging.getLogger(__name__)

UNCONFIGURED_BACKEND = "core.mail.UnconfiguredEmailBackend"
SES_BACKEND = "django_ses.SESBackend"
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
SMTP_TIMEOUT_SECONDS = 10
ERROR_NOT_CONFIGURED = (
    "e-mail not sent (%s): no mail backend is configured; set EMAIL_URL (smtp://… or smtps://…) "
    "or STOCKCHAT_EMAIL_BACKEND=ses, and DEFAULT_FROM_EMAIL"
)


def _smtp_settings(url: str) -> dict[str, Any]:
    # Error messages never repeat the URL: it holds the password.
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL is not a URL (smtp://user:password@host:587).") from None
    if parts.scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured(f"EMAIL_URL must start with smtp:// or smtps://, not {parts.scheme}://.")
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL names no host (smtp://user:password@host:587).")
    if parts.path not in {"", "/"} or parts.fragment:
        raise ImproperlyConfigured("EMAIL_URL must have no path: smtp://user:password@host:587.")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise ImproperlyConfigured(f"EMAIL_URL has unknown options: {', '.join(unknown)} (only starttls=false).")
    starttls = parts.scheme == "smtp"
    if "starttls" in query:
        value = query["starttls"][-1].strip().lower()
        if parts.scheme != "smtp" or value not in {"false", "off", "0", "no"}:
            raise ImproperlyConfigured("EMAIL_URL: starttls=false is the only option, and only for smtp://.")
        if parts.hostname not in LOOPBACK_HOSTS:
            raise ImproperlyConfigured(
                "EMAIL_URL: starttls=false would send the password and messages in clear; "
                "it is accepted only for a relay on this machine (127.0.0.1, ::1, localhost)."
            )
        starttls = False
    return {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if parts.scheme == "smtps" else 587),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": starttls,
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_TIMEOUT": SMTP_TIMEOUT_SECONDS,
    }


def _ses_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    region = env_str(environ, "AWS_SES_REGION_NAME") or env_str(environ, "AWS_REGION")
    if not region:
        raise ImproperlyConfigured("STOCKCHAT_EMAIL_BACKEND=ses needs AWS_SES_REGION_NAME (or AWS_REGION).")
    return {
        "EMAIL_BACKEND": SES_BACKEND,
        "AWS_SES_REGION_NAME": region,
        "AWS_SES_REGION_ENDPOINT": f"email.{region}.amazonaws.com",
        "USE_SES_V2": True,
        # django-ses's throttling asks SES for its quota before each message and
        # sleeps in the request; a password reset now and then needs neither.
        "AWS_SES_AUTO_THROTTLE": None,
    }


def mail_settings(environ: Mapping[str, str], *, debug: bool) -> dict[str, Any]:
    """The ``EMAIL_*`` (and django-ses) settings for these variables; ImproperlyConfigured when they are wrong."""
    url = env_str(environ, "EMAIL_URL")
    backend = env_str(environ, "STOCKCHAT_EMAIL_BACKEND").lower()
    if backend not in {"", "smtp", "ses"}:
        raise ImproperlyConfigured(f"STOCKCHAT_EMAIL_BACKEND={backend!r} must be smtp or ses.")
    if backend == "ses" and url:
        raise ImproperlyConfigured("Set EMAIL_URL (SMTP) or STOCKCHAT_EMAIL_BACKEND=ses, not both.")
    if backend == "smtp" and not url:
        raise ImproperlyConfigured("STOCKCHAT_EMAIL_BACKEND=smtp needs EMAIL_URL (smtp://user:password@host:587).")
    if backend == "ses":
        values = _ses_settings(environ)
    elif url:
        values = _smtp_settings(url)
    else:
        values = {"EMAIL_BACKEND": CONSOLE_BACKEND if debug else UNCONFIGURED_BACKEND}
    sender = env_str(environ, "DEFAULT_FROM_EMAIL")
    if values["EMAIL_BACKEND"] in {SMTP_BACKEND, SES_BACKEND} and not sender:
        raise ImproperlyConfigured(
            "DEFAULT_FROM_EMAIL must be set with EMAIL_URL or STOCKCHAT_EMAIL_BACKEND=ses "
            "(the sender of password-reset mail, e.g. stockchat <no-reply@example.com>)."
        )
    if sender:
        values["DEFAULT_FROM_EMAIL"] = sender
        values["SERVER_EMAIL"] = env_str(environ, "SERVER_EMAIL") or sender
    elif env_str(environ, "SERVER_EMAIL"):
        values["SERVER_EMAIL"] = env_str(environ, "SERVER_EMAIL")
    return values


class UnconfiguredEmailBackend(BaseEmailBackend):
    """Sends nothing and says so in the log, once per message, naming the variables to set."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            recipients = len(message.recipients())
            logger.error(ERROR_NOT_CONFIGURED, f"{message.subject!r} to {recipients} recipient(s)")
        return 0
