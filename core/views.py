"""What a refused service call looks like on an HTML page, in one place for every app.

The API turns a ``ServiceError`` into JSON (``core.api``) and the socket into an error
frame; the pages do it here. ``service_errors`` wraps a view that calls services and
selectors without catching what they raise:

- a ``NotFound`` is the 404 page with its detail, exactly as for an id that does not exist
  (so an outsider learns nothing of what is there);
- any other refusal is shown as an error message on the page ``back`` leads to (the page
  the form was on); without ``back`` it propagates, as a bug would.

A view whose form shows the refusal next to the fields catches ``ServiceError`` itself and
lets ``NotFound`` through to this decorator (``except NotFound: raise``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse

from core.errors import NotFound, ServiceError

View = Callable[..., HttpResponse]


def service_errors(
    view: View | None = None, *, back: View | None = None, missing: Collection[str] | None = None
) -> Any:
    """Map the ``ServiceError`` a view leaves unhandled to the page response.

    ``back(request, *args, **kwargs)`` (called with the view's own arguments) is where a
    refusal is shown as a message. ``missing`` narrows the 404 page to ``NotFound`` errors
    with these codes (the object the page is about); any other ``NotFound`` is then a
    refusal like the rest (a user or symbol typed into a form that does not exist).
    Usable bare (``@service_errors``) or with arguments.
    """

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except ServiceError as exc:
                if isinstance(exc, NotFound) and (missing is None or exc.code in missing):
                    raise Http404(exc.detail) from None
                if back is None:
                    raise
                messages.error(request, exc.detail)
            return back(request, *args, **kwargs)

        return wrapped

    return decorate if view is None else decorate(view)
