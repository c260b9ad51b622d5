"""Shared REST API plumbing: one error shape, cursor pagination, row rendering.

Every error body is ``{"code": "<stable code>", "detail": "<human text>"}``,
plus ``"fields"`` for validation errors, from ``exception_handler`` below
(``REST_FRAMEWORK["EXCEPTION_HANDLER"]``). Services raise
``core.errors.ServiceError``; DRF's own exceptions and Django's
``Http404``/``PermissionDenied`` are mapped to the same shape.
"""

from __future__ import annotations

import codecs
import copy
import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, serializers
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from core.errors import ServiceError
from core.inputs import (
    ERROR_CONTROL_CHARACTER,
    ERROR_MALFORMED_JSON,
    InputError,
    find_forbidden_text,
    has_forbidden_characters,
    loads_json,
    parse_int,
)
from core.ratelimit import Decision, api_throttle, throttle_user

ERROR_INVALID_CURSOR = "invalid_cursor"
ERROR_INVALID_QUERY = "invalid_query"
UNKNOWN_FIELD = "Unknown field."

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
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES (this module's parser) as it
    # loads, so importing it at the top made `import core.api` fail whenever it came first.
    from rest_framework.views import set_rollback

    if isinstance(exc, ServiceError):
        set_rollback()
        headers = {} if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
        body = {"code": exc.code, "detail": exc.detail}
        if getattr(exc, "fields", None):
            body["fields"] = exc.fields  # a request refused field by field (trading.orders.OrderRequestError)
        return Response(body, status=exc.status, headers=headers)
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


class ScopedThrottle(BaseThrottle):
    """DRF's ``ScopedRateThrottle`` on ``core.ratelimit``: per ``view.throttle_scope``, per user (per
    client address when anonymous), one atomic round trip. A refusal is DRF's ``Throttled``: 429
    ``throttled`` with ``Retry-After`` (``exception_handler`` above)."""

    decision: Decision | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = getattr(view, "throttle_scope", None)
        if scope is None:
            return True
        user = request.user
        if user is not None and user.is_authenticated:
            self.decision = throttle_user(scope, user)
        else:
            # Hashed: with proxies counted, the address comes from a header the client can write.
            address = hashlib.sha256(self.get_ident(request).encode()).hexdigest()[:32]
            self.decision = api_throttle(scope, f"address.{address}")
        return self.decision.allowed

    def wait(self) -> float | None:
        return None if self.decision is None else float(self.decision.retry_after)


_JSON_TYPE_NAMES = {"string": "a string", "integer": "a whole number", "boolean": "true or false", "array": "a list"}


def _json_type(field: serializers.Field) -> str | None:
    if isinstance(field, serializers.BooleanField):
        return "boolean"
    if isinstance(field, serializers.IntegerField):
        return "integer"
    if isinstance(field, serializers.CharField | serializers.ChoiceField | serializers.DecimalField):
        return "string"
    if isinstance(field, serializers.ListField):
        return "array"
    return None


def _is_json(value: Any, expected: str, field: serializers.Field | None = None) -> bool:
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "string":
        return isinstance(value, str)
    # A list's items as its child field says (a list of strings when it says nothing).
    item_type = _json_type(field.child) if isinstance(field, serializers.ListField) else None
    return isinstance(value, list) and all(_is_json(item, item_type or "string") for item in value)


# An input serializer that refuses fields it does not know (the schema says
# additionalProperties: false): a misspelt "limit_prce" is an error, not a market order.
class FieldsBuiltOnce:
    """Mixed into a serializer (before it): its fields are built once per class, then copied.

    DRF builds a serializer's fields again for every instance: a ``ModelSerializer`` reads the
    model's options and makes each field from them on every response (each object of a list shares
    one child). Here the class keeps the first set it builds, unbound, and each instance gets a
    deep copy, which DRF binds as usual. Only for serializers whose fields depend on nothing but the
    class (not on the instance, the request or the context): the output serializers of hot endpoints.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        # Looked up in the class's own namespace: a subclass builds (and keeps) its own fields.
        built = cls.__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            cls._fields_built_once = built
        return copy.deepcopy(built)


class StrictInputSerializer(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: [UNKNOWN_FIELD] for name in unknown})
            if type(data) is dict:  # a JSON body: types as the schema says, no "0" for 0 or 0 for "0"
                wrong = {
                    name: [f"Must be {_JSON_TYPE_NAMES[expected]}."]
                    for name, value in data.items()
                    if value is not None
                    and (expected := _json_type(self.fields[name]))
                    and not _is_json(value, expected, self.fields[name])
                }
                if wrong:
                    raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


class DecimalStringField(serializers.DecimalField):
    """A price or amount as a JSON string (``"101.25"``), as the API also writes them.

    A JSON number is refused rather than converted: in most clients it went
    through a binary float before it was sent, so the digits typed may not be
    the digits that arrive.
    """

    default_error_messages = {"not_a_string": 'Write the amount as a string, e.g. "101.25"; numbers are refused.'}

    def to_internal_value(self, data: Any) -> Decimal | None:
        if not isinstance(data, str):
            self.fail("not_a_string")
        if data == "" and self.allow_null:
            return None  # a form's empty field: no price
        return super().to_internal_value(data)


class CheckedJSONParser(JSONParser):
    """JSON bodies through ``core.inputs``: depth-limited (no ``RecursionError``),
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
            # 404 as DRF answers for a cursor it cannot decode: the page it names does not exist.
            raise ServiceError(
                ERROR_INVALID_CURSOR, "The cursor is not one this API gave out; start from page one.", status=404
            )
        return cursor

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = (
                    f"Rows per page, 1-{self.max_page_size} (more is read as {self.max_page_size})."
                )
        return parameters

    def get_page_size(self, request: Request) -> int:
        # DRF ignores a limit it cannot read and answers a full page; a typo should be an error.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if raw.isascii() and raw.isdigit() and len(raw) > 19:
            return self.max_page_size  # more than any page holds
        size = parse_int(raw, minimum=1)
        if size is None:
            raise ServiceError(ERROR_INVALID_QUERY, f"{self.page_size_query_param} must be a whole number from 1.")
        return min(size, self.max_page_size)

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
