"""core/views.service_errors: what a refused service call looks like on a page."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.test import RequestFactory

from core.errors import NotFound, ServiceError
from core.views import service_errors


def request():
    made = RequestFactory().post("/somewhere/")
    made.session = SessionStore()
    made._messages = FallbackStorage(made)
    return made


def flashed(made) -> list[tuple[str, str]]:
    return [(message.level_tag, message.message) for message in get_messages(made)]


def back(made, item_id: int) -> HttpResponse:
    return redirect(f"/items/{item_id}/")


def raising(error: Exception):
    def view(made, item_id: int) -> HttpResponse:
        raise error

    return view


def test_a_view_that_succeeds_is_untouched():
    made = request()
    response = service_errors(back=back)(lambda made, item_id: HttpResponse("done"))(made, item_id=3)
    assert response.content == b"done"
    assert flashed(made) == []


@pytest.mark.parametrize("decorate", [service_errors, service_errors(back=back)], ids=["bare", "with-back"])
def test_not_found_is_the_404_page_with_its_detail(decorate):
    with pytest.raises(Http404, match=r"No such item\."):
        decorate(raising(NotFound("No such item.", code="item_not_found")))(request(), item_id=3)


def test_a_refusal_is_a_message_on_the_page_back_leads_to():
    made = request()
    view = service_errors(back=back)(raising(ServiceError("too_many", "At most 3 items.", status=409)))
    response = view(made, item_id=3)
    assert (response.status_code, response["Location"]) == (302, "/items/3/")
    assert flashed(made) == [("error", "At most 3 items.")]


def test_without_back_a_refusal_propagates():
    error = ServiceError("too_many", "At most 3 items.")
    with pytest.raises(ServiceError) as raised:
        service_errors(raising(error))(request(), item_id=3)
    assert raised.value is error


def test_missing_narrows_the_404_page_to_the_pages_own_object():
    decorate = service_errors(back=back, missing={"item_not_found"})
    with pytest.raises(Http404):
        decorate(raising(NotFound("No such item.", code="item_not_found")))(request(), item_id=3)
    # A user typed into the form that does not exist is a message, not a missing page.
    made = request()
    response = decorate(raising(NotFound("No user named 'zed'.", code="user_not_found")))(made, item_id=3)
    assert response["Location"] == "/items/3/"
    assert flashed(made) == [("error", "No user named 'zed'.")]
    made = request()
    service_errors(back=back, missing=())(raising(NotFound("No such item.", code="item_not_found")))(made, item_id=3)
    assert flashed(made) == [("error", "No such item.")]
