"""Shared REST API plumbing: one error shape, cursor pagination, row rendering.

Every error body is ``{"code": "<stable code>", "detail": "<human text>"}``,
plus ``"fields"`` for validation errors, from ``exception_handler`` below
(``REST_FRAMEWORK["EXCEPTION_HANDLER"]``). Services raise
``stockchat.errors.ServiceError``; DRF's own exceptions and Django's
``Http404``/``PermissionDenied`` are mapped to the same shape.
"""

from __future__ import annotations

import codecs
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import set_rollback

from stockchat.errors import ServiceError
from stockchat.inputs import (
    ERROR_CONTROL_CHARACTER,
    ERROR_MALFORMED_JSON,
    InputError,
    find_forbidden_text,
    has_forbidden_characters,
    loads_json,
    parse_int,
)

ERROR_INVALID_CURSOR = "invalid_cursor"

DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "parse_error",
    exceptions.ValidationError: "invalid",
}


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        message = _first_message(value)
        return message if key == "non_field_errors" else f"{key}: {message}"
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):
        set_rollback()
        headers = {} if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
        return Response({"code": exc.code, "detail": exc.detail}, status=exc.status, headers=headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    code = next((c for cls, c in DRF_CODES.items() if isinstance(exc, cls)), "error")
    body: dict[str, Any] = {"code": code}
    if (
        not isinstance(exc, exceptions.ValidationError)
        and isinstance(exc.detail, dict)
        and set(exc.detail) == {"code", "detail"}
    ):
        # Raised with its own stable code (token authentication does this).
        body = {"code": str(exc.detail["code"]), "detail": str(exc.detail["detail"])}
    elif isinstance(exc, exceptions.ValidationError):
        body["detail"] = _first_message(exc.detail)
        if isinstance(exc.detail, dict):
            body["fields"] = exc.detail
    else:
        body["detail"] = str(exc.detail)
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


class CheckedJSONParser(JSONParser):
    """JSON bodies through ``stockchat.inputs``: depth-limited (no ``RecursionError``),
    no control characters in any key or string, and numbers exactly as typed
    (``Decimal``, never a float rounded on the way to a price)."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read()
        try:
            text = codecs.decode(raw, encoding)
            data = loads_json(text, exact_numbers=True)
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError("The body is not valid JSON.") from exc
        except InputError as exc:
            if exc.code != ERROR_MALFORMED_JSON:
                raise
            # The API's code for a body that is not JSON has always been parse_error.
            raise exceptions.ParseError(exc.detail) from exc
        if find_forbidden_text(data):
            raise InputError(ERROR_CONTROL_CHARACTER, "The body contains a control character, which is not allowed.")
        return data


class CheckedCursorPagination(CursorPagination):
    """A cursor is opaque to clients, but it comes back from them: a forged one
    (garbage, NUL, a position that is not a value of the ordering field)
    is a 400 ``invalid_cursor``, never a query that fails in the database."""

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            cursor = None
            valid = False
        else:
            valid = cursor is None or cursor.position is None or self.position_is_valid(cursor.position)
        if not valid:
            raise InputError(ERROR_INVALID_CURSOR, "The cursor is not one this API gave out; start from page one.")
        return cursor

    def position_is_valid(self, position: str) -> bool:
        return parse_int(position, minimum=0) is not None


class NewestFirstPagination(CheckedCursorPagination):
    """Cursor pagination by descending id: stable while new rows arrive."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500


class OldestFirstPagination(CheckedCursorPagination):
    """Cursor pagination for time series (bars), oldest first."""

    ordering = "start"
    page_size = 1000
    page_size_query_param = "limit"
    max_page_size = 10_000

    def position_is_valid(self, position: str) -> bool:
        try:
            return parse_datetime(position) is not None
        except ValueError:
            return False


class TextCursorPagination(NewestFirstPagination):
    """Cursor pagination over a short text column (a stock's symbol)."""

    def position_is_valid(self, position: str) -> bool:
        return len(position) <= 64 and not has_forbidden_characters(position)


# Long time series are rendered from ``values_list`` rows with these instead of a
# serializer per row (a 1,000-bar page took ten times longer through
# ModelSerializer). They give exactly what DRF's fields give for the same
# value (tests pin the bytes): decimals as fixed-point strings with the
# field's places, times in ISO 8601 in the current time zone with "Z" for UTC.


def api_decimal(value: Decimal, step: Decimal) -> str:
    """``value`` as ``serializers.DecimalField`` renders it; ``step`` is ``Decimal("0.0001")`` for 4 places."""
    return f"{value.quantize(step):f}"


def api_datetime(value: datetime) -> str:
    """An aware ``value`` as ``serializers.DateTimeField`` renders it."""
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
