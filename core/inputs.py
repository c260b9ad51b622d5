"""Untrusted input, parsed in one place for every path (HTTP, API, socket frames).

Hostile input gets a clear refusal, never a server error:

- ids and counters are ASCII digits only (``"²"`` passes ``str.isdigit()`` but
  not ``int()``; ``"٣"`` passes both), within PostgreSQL's ``bigint``;
- text carries no NUL or other control characters (PostgreSQL refuses NUL in
  text columns) and no lone surrogates (they cannot be encoded as UTF-8);
- JSON is refused past a nesting depth before it is parsed, so the decoder
  never recurses deep enough to raise ``RecursionError``.

Each function returns ``None`` or raises ``InputError`` (a ``ServiceError``
with status 400) so callers map it like any other refusal.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from core.errors import ServiceError

MAX_BIGINT = 2**63 - 1
MAX_JSON_DEPTH = 32

ERROR_INVALID_ID = "invalid_id"
ERROR_CONTROL_CHARACTER = "control_character"
ERROR_TOO_DEEP = "too_deep"
ERROR_MALFORMED_JSON = "malformed"

# C0 controls but tab, line feed and carriage return; DEL and C1 controls; lone surrogates.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_JSON_STRUCTURE = re.compile(r'[\[\]{}"\\]')


class InputError(ServiceError):
    status = 400

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)


def parse_int(value: object, *, minimum: int = 0, maximum: int = MAX_BIGINT) -> int | None:
    """``value`` as an int in ``[minimum, maximum]``, or ``None``.

    Accepts a JSON integer (not a bool, not a float) or a string of ASCII digits
    without sign, spaces or underscores.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and 0 < len(value) <= 19 and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return None
    return number if minimum <= number <= maximum else None


def parse_id(value: object) -> int | None:
    """A primary key (1 or more) from a URL, query string, form field, JSON key or frame."""
    return parse_int(value, minimum=1)


def require_id(value: object, *, name: str = "id") -> int:
    """Like ``parse_id`` but raises ``InputError`` naming ``name``."""
    number = parse_id(value)
    if number is None:
        raise InputError(ERROR_INVALID_ID, f"{name} must be a positive whole number written with the digits 0-9.")
    return number


def has_forbidden_characters(text: str) -> bool:
    """True for NUL and other control characters (but tab and newlines) and lone surrogates."""
    return _FORBIDDEN.search(text) is not None


def check_text(text: str, *, name: str = "text") -> str:
    """``text`` unchanged, or ``InputError`` if it holds characters no text field may store."""
    if has_forbidden_characters(text):
        raise InputError(ERROR_CONTROL_CHARACTER, f"{name} contains a control character, which is not allowed.")
    return text


def json_depth_exceeds(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when the JSON in ``text`` nests arrays/objects deeper than ``limit``.

    A scan over the brackets outside strings, cheap enough to run before
    ``json.loads`` (which recurses once per level).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    depth = 0
    in_string = False
    skip_before = 0  # a backslash in a string escapes the character right after it
    for match in _JSON_STRUCTURE.finditer(text):
        position = match.start()
        if position < skip_before:
            continue
        char = match.group()
        if in_string:
            if char == "\\":
                skip_before = position + 2
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, exact_numbers: bool = False) -> Any:
    """Parse JSON from a client, refusing deep nesting and malformed text with ``InputError``.

    With ``exact_numbers`` a number with a fraction or exponent becomes a
    ``Decimal`` holding exactly the digits typed (a float would round
    ``100.12345678901234567`` silently), and ``NaN``/``Infinity``, which JSON
    does not have, are refused.
    """
    if json_depth_exceeds(text, max_depth):
        raise InputError(ERROR_TOO_DEEP, f"JSON nested deeper than {max_depth} levels is not accepted.")
    options: dict[str, Any] = {"parse_float": Decimal, "parse_constant": _refuse_constant} if exact_numbers else {}
    try:
        return json.loads(text, **options)
    except (ValueError, RecursionError) as exc:
        raise InputError(ERROR_MALFORMED_JSON, "The body is not valid JSON.") from exc


def find_forbidden_text(value: Any) -> bool:
    """True when any string (key or value) inside a parsed JSON ``value`` has forbidden characters."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if has_forbidden_characters(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class IdConverter:
    """``<id:name>`` in URL patterns: a primary key in ASCII digits within ``bigint``.

    Django's ``<int:>`` takes any run of digits, so an id past ``bigint``
    reached the database; anything else (``"²"``, a sign, 20 digits) does not
    match, so the route answers 404 like any unknown path.
    """

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)  # Django then tries the next pattern, and answers 404
        return number

    def to_url(self, value: int | str) -> str:
        return str(value)


def register_id_converter() -> None:
    """Make ``<id:...>`` available to URL patterns; each URL module calls it (once is enough)."""
    from django.urls.converters import get_converters, register_converter

    if "id" not in get_converters():
        register_converter(IdConverter, "id")
