"""Shared REST API plumbing: one error shape, cursor pagination.

Every error body is ``{"code": "<stable code>", "detail": "<human text>"}``,
plus ``"fields"`` for validation errors, from ``exception_handler`` below
(``REST_FRAMEWORK["EXCEPTION_HANDLER"]``). Services raise
``stockchat.errors.ServiceError``; DRF's own exceptions and Django's
``Http404``/``PermissionDenied`` are mapped to the same shape.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import set_rollback

from stockchat.errors import ServiceError

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
        return Response({"code": exc.code, "detail": exc.detail}, status=exc.status)
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


class NewestFirstPagination(CursorPagination):
    """Cursor pagination by descending id: stable while new rows arrive."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500


class OldestFirstPagination(CursorPagination):
    """Cursor pagination for time series (bars), oldest first."""

    ordering = "start"
    page_size = 1000
    page_size_query_param = "limit"
    max_page_size = 10_000
