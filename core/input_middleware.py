"""The backstop for hostile text on every route, pages and API alike.

NUL and other control characters in the path, the query string or a form
body are refused with a 400 before any view runs: PostgreSQL refuses NUL in
text (a server error when a view passed it on to a query), and no field of
the app stores control characters. A view whose form checks each field
itself (``form_text_checked`` with ``ControlCharacterFormMixin``) gets the
form body as sent, so that the refusal is an error on the field. The error is JSON ``{code, detail}``
under ``/api/`` and a small page elsewhere. JSON bodies are checked by the
API's parser (``core.api.CheckedJSONParser``), with the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.deprecation import MiddlewareMixin
from django.utils.html import escape

from core.inputs import ERROR_CONTROL_CHARACTER, has_forbidden_characters

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CONTROL_CHARACTER_MESSAGE = "Remove the control character (NUL, escape, ...) from this field."

View = TypeVar("View", bound=Callable[..., Any])


def form_text_checked(view: View) -> View:
    """Marks a view whose form checks every field itself (with ``ControlCharacterFormMixin``), so
    that a control character comes back as an error on that field, with the rest of the form as
    typed, rather than as this middleware's bare 400 page."""
    view.form_text_checked = True  # type: ignore[attr-defined]
    return view


def refuse_control_characters(value: object) -> None:
    """A form field validator: no NUL or other control characters (tab and newlines aside)."""
    if isinstance(value, str) and has_forbidden_characters(value):
        raise ValidationError(CONTROL_CHARACTER_MESSAGE, code=ERROR_CONTROL_CHARACTER)


class ControlCharacterFormMixin:
    """Every field of the form refuses control characters, before its own cleaning."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            field.clean = _checked(field.clean)


def _checked(clean: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def checked(value: Any) -> Any:
        for item in value if isinstance(value, list | tuple) else [value]:
            refuse_control_characters(item)
        return clean(value)

    return checked


def refusal(request: HttpRequest, code: str, detail: str, status: int = 400) -> HttpResponse:
    """An error as the client expects it: JSON under ``/api/``, a page elsewhere."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"code": code, "detail": detail}, status=status)
    return HttpResponse(
        f"<!doctype html><title>Bad request · stockchat</title><h1>Bad request</h1><p>{escape(detail)}</p>",
        status=status,
        content_type="text/html; charset=utf-8",
    )


def _forbidden_part(request: HttpRequest, *, check_form: bool) -> str | None:
    if has_forbidden_characters(request.path_info):
        return "The address"
    for name, values in request.GET.lists():
        if has_forbidden_characters(name) or any(has_forbidden_characters(v) for v in values):
            return f"The query parameter {name!r}"
    if (
        check_form
        and request.method in {"POST", "PUT", "PATCH", "DELETE"}
        and request.content_type in FORM_CONTENT_TYPES
    ):
        for name, values in request.POST.lists():
            if has_forbidden_characters(name) or any(has_forbidden_characters(v) for v in values):
                return f"The form field {name!r}"
    return None


class RefuseControlCharactersMiddleware(MiddlewareMixin):
    # process_view, not process_request: it needs the view to know whether its form checks
    # fields itself. A path that matches no view is a 404 whatever it holds.
    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        check_form = not getattr(view_func, "form_text_checked", False)
        try:
            part = _forbidden_part(request, check_form=check_form)
        except MultiPartParserError:
            return refusal(request, "parse_error", "The form body could not be read.")
        if part is None:
            return None
        return refusal(request, ERROR_CONTROL_CHARACTER, f"{part} contains a control character, which is not allowed.")
