"""The backstop for hostile text on every route, pages and API alike.

NUL and other control characters in the path, the query string or a form
body are refused with a 400 before any view runs: PostgreSQL refuses NUL in
text (a server error when a view passed it on to a query), and no field of
the app stores control characters. The error is JSON ``{code, detail}``
under ``/api/`` and a small page elsewhere. JSON bodies are checked by the
API's parser (``stockchat.api.CheckedJSONParser``), with the same code.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.deprecation import MiddlewareMixin
from django.utils.html import escape

from stockchat.inputs import ERROR_CONTROL_CHARACTER, ERROR_MALFORMED_JSON, has_forbidden_characters

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refusal(request: HttpRequest, code: str, detail: str, status: int = 400) -> HttpResponse:
    """An error as the client expects it: JSON under ``/api/``, a page elsewhere."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"code": code, "detail": detail}, status=status)
    return HttpResponse(
        f"<!doctype html><title>Bad request · stockchat</title><h1>Bad request</h1><p>{escape(detail)}</p>",
        status=status,
        content_type="text/html; charset=utf-8",
    )


def _forbidden_part(request: HttpRequest) -> str | None:
    if has_forbidden_characters(request.path_info):
        return "The address"
    for name, values in request.GET.lists():
        if has_forbidden_characters(name) or any(has_forbidden_characters(v) for v in values):
            return f"The query parameter {name!r}"
    if request.method in {"POST", "PUT", "PATCH", "DELETE"} and request.content_type in FORM_CONTENT_TYPES:
        for name, values in request.POST.lists():
            if has_forbidden_characters(name) or any(has_forbidden_characters(v) for v in values):
                return f"The form field {name!r}"
    return None


class RefuseControlCharactersMiddleware(MiddlewareMixin):
    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            part = _forbidden_part(request)
        except MultiPartParserError:
            return refusal(request, ERROR_MALFORMED_JSON, "The form body could not be read.")
        if part is None:
            return None
        return refusal(request, ERROR_CONTROL_CHARACTER, f"{part} contains a control character, which is not allowed.")
