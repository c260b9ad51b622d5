"""Structured logs: one JSON object per line, each carrying the request id.

The formatter writes an allow-list of record fields plus the plain-valued
extras a caller passed; objects (a request, a user) are never serialised, and
any field whose name suggests a credential is replaced, so a password, a
cookie or an Authorization header cannot reach the log through a formatter.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("stockchat_request_id", default=None)

REDACTED = "[redacted]"
SENSITIVE_NAME = re.compile(r"pass|secret|token|authorization|cookie|session|csrf|api[-_]?key|credential", re.I)

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (or None outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            # django.request logs the response after the middleware has returned,
            # so the id comes from the request it passes along.
            request = getattr(record, "request", None)
            record.request_id = request_id_var.get() or getattr(request, "request_id", None)
        return True


def _plain(value: object) -> object | None:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key in _RECORD_ATTRS or key in entry or key.startswith("_"):
                continue
            if SENSITIVE_NAME.search(key):
                entry[key] = REDACTED
                continue
            plain = _plain(value)
            if plain is not None:
                entry[key] = plain
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """Human-readable lines for development, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get() or "-"
        return super().format(record)


def logging_config(fmt: str, level: str) -> dict:
    """The LOGGING setting: ``fmt`` is ``json`` or ``plain``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "stockchat.deploy.logs.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "stockchat.deploy.logs.JsonFormatter"},
            "plain": {"()": "stockchat.deploy.logs.PlainFormatter"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            # Daphne's own access log repeats stockchat.request without the request id.
            "daphne.access": {"level": "WARNING"},
        },
    }
