"""Strict readers for configuration from environment variables.

Every reader takes the environment mapping explicitly so that settings can be
tested without touching ``os.environ``. A value that cannot be parsed is an
``ImproperlyConfigured`` error naming the variable, never a silent default.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """Read a boolean; accepts 1/0, true/false, yes/no, on/off (any case)."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use one of "
        f"{', '.join(sorted(TRUE_WORDS))} or {', '.join(sorted(FALSE_WORDS))}."
    )


def env_str(environ: Mapping[str, str], name: str, default: str = "") -> str:
    raw = environ.get(name)
    if raw is None:
        return default
    return raw.strip()


def env_required(environ: Mapping[str, str], name: str, why: str) -> str:
    """Read a variable that must be set; ``why`` says when it is needed."""
    value = env_str(environ, name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set {why}.")
    return value


def env_list(environ: Mapping[str, str], name: str, default: list[str] | None = None) -> list[str]:
    """Read a comma-separated list; blanks between commas are ignored."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(environ: Mapping[str, str], name: str, default: int, *, minimum: int | None = None) -> int:
    """Read a whole number; with ``minimum``, a smaller one is refused."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be {minimum} or more.")
    return value


def env_decimal(environ: Mapping[str, str], name: str, default: str) -> Decimal:
    """Read a non-negative decimal amount (money is never a float)."""
    raw = env_str(environ, name) or default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a decimal number.") from None
    if not value.is_finite() or value < 0:
        raise ImproperlyConfigured(f"{name}={raw!r} must be a finite number >= 0.")
    return value


def env_float(environ: Mapping[str, str], name: str, default: float) -> float:
    """Read a positive finite number (an interval in seconds, a rate)."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if not (value > 0 and value != float("inf")):
        raise ImproperlyConfigured(f"{name}={raw!r} must be a positive number.")
    return value
