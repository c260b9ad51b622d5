"""One test per class of hostile input, and the API's promise that every error is JSON.

The walk over every route is in ``test_hostile_input.py``; these pin the exact answers.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from django.test import Client

from chat import services as chat_services
from core.openapi import API_ERRORS, error_codes
from trading import services as trading_services
from trading.models import Order
from trading.tests.conftest import new_stock

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def alice(make_user):
    user = make_user("alice")
    new_stock("ACME")
    return user


@pytest.fixture
def api(alice) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    return client


def post_json(client: Client, path: str, body: str, method: str = "POST"):
    return client.generic(method, path, body, content_type="application/json")


# --- NUL and control characters -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/assets?search=a%00b", "/api/v1/orders?symbol=%07", "/stocks/?q=a%00b"])
def test_a_control_character_in_the_query_string_is_a_400(api, path):
    response = api.get(path)
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json()["code"] == "control_character"


def test_a_nul_in_a_path_segment_is_a_400_in_json_under_the_api(api):
    response = api.get("/api/v1/assets/AC%00ME")
    assert response.status_code == 400
    assert response.json()["code"] == "control_character"


def test_a_nul_in_a_form_field_is_a_400_and_nothing_is_stored(api, alice):
    response = api.post("/watchlists/", {"name": "Tech\x00"})
    assert response.status_code == 400
    assert not alice.watchlists.exists()


def test_a_control_character_in_the_order_ticket_is_an_error_on_that_field(api, alice):
    response = api.post(
        "/stocks/ACME/order/", {"side": "buy", "type": "market", "quantity": "1\x00", "time_in_force": "day"}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["quantity"]
    assert "control character" in errors["quantity"][0]
    assert not Order.objects.exists()


@pytest.mark.parametrize("body", ['{"name": "a\\u0000b"}', '{"name": "ok", "symbols": ["\\u0007"]}', '{"\\u0000": 1}'])
def test_a_control_character_anywhere_in_a_json_body_is_a_400(api, alice, body):
    response = post_json(api, "/api/v1/watchlists", body)
    assert response.status_code == 400
    assert response.json()["code"] == "control_character"
    assert not alice.watchlists.exists()


# --- ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A3", "-1", "1.0", "9" * 20])
def test_an_id_that_is_not_ascii_digits_within_bigint_is_a_json_404(api, raw):
    response = api.get(f"/api/v1/orders/{raw}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("name", ["before", "after", "limit"])
def test_unicode_digits_in_a_numeric_query_parameter_are_a_400(api, alice, name):
    conversation = chat_services.group_create(user=alice, title="Desk")
    response = api.get(f"/api/v1/conversations/{conversation.pk}/messages?{name}=%C2%B2")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_query"


def test_unicode_digits_in_a_page_query_are_ignored_like_any_other_junk(api, alice):
    conversation = chat_services.group_create(user=alice, title="Desk")
    assert api.get(f"/chat/{conversation.pk}/?before=%C2%B2").status_code == 200


# --- cursors ----------------------------------------------------------------------------------


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/api/v1/orders", "garbage!"),
        ("/api/v1/orders", _cursor("p=not-a-number")),
        ("/api/v1/orders", _cursor("p=" + "9" * 30)),
        ("/api/v1/account/activities", _cursor("o=1&p=\x00")),
        ("/api/v1/assets", _cursor("p=\x01")),
        ("/api/v1/assets/ACME/bars", _cursor("p=1")),
        ("/api/v1/assets/ACME/bars", _cursor("p=2026-13-45T99:99")),
    ],
)
def test_a_forged_cursor_is_a_json_404(api, path, cursor):
    response = api.get(path, {"cursor": cursor})
    assert response.status_code == 404
    assert response.json()["code"] == "invalid_cursor"


def test_a_huge_cursor_offset_is_capped_not_an_error(api):
    assert api.get("/api/v1/orders", {"cursor": _cursor("o=99999999999999999999")}).status_code == 200


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "²", "null"])
def test_an_unreadable_limit_is_a_400(api, limit):
    response = api.get("/api/v1/orders", {"limit": limit})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_query"


# --- JSON depth and numbers -------------------------------------------------------------------


def test_deeply_nested_json_is_a_400_too_deep(api):
    body = '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = post_json(api, "/api/v1/watchlists", body)
    assert response.status_code == 400
    assert response.json()["code"] == "too_deep"


def test_a_price_as_a_json_number_is_refused_and_as_a_string_kept_exactly(api):
    order = {"symbol": "ACME", "side": "buy", "type": "limit", "quantity": 1}
    refused = post_json(api, "/api/v1/orders", json.dumps({**order, "limit_price": 10.1}))
    assert refused.status_code == 400
    assert refused.json()["fields"]["limit_price"]
    placed = post_json(api, "/api/v1/orders", json.dumps({**order, "limit_price": "10.1234"}))
    assert placed.status_code == 201
    assert placed.json()["limit_price"] == "10.1234"
    too_fine = post_json(api, "/api/v1/orders", json.dumps({**order, "limit_price": "10.12345"}))
    assert too_fine.status_code == 400


def test_nan_is_not_json(api):
    response = post_json(api, "/api/v1/orders", '{"symbol": "ACME", "side": "buy", "quantity": NaN}')
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_an_unknown_field_is_refused_rather_than_ignored(api):
    response = post_json(api, "/api/v1/orders", '{"symbol": "ACME", "side": "buy", "quantity": 1, "limit_prce": "1"}')
    assert response.status_code == 400
    assert response.json()["fields"] == {"limit_prce": ["Unknown field."]}


# --- every error under /api/ is JSON ----------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["production", "make run"])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/orders/abc", "/api/v1/nonexistent", "/api/", "/api/v2/orders"])
def test_an_unmatched_path_under_the_api_is_a_json_404(api, path, method, debug, settings):
    # Debug pages (make run) would answer Django's HTML 404 page; a client written from the
    # docs meets the same JSON there as in production.
    settings.DEBUG = debug
    response = getattr(api, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_an_unmatched_page_is_still_an_html_404(api, settings):
    settings.DEBUG = False
    response = api.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_wrong_method_and_a_wrong_media_type_are_json(api):
    wrong_method = api.put("/api/v1/orders", "{}", content_type="application/json")
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "method_not_allowed")
    wrong_type = api.post("/api/v1/orders", "<order/>", content_type="application/xml")
    assert (wrong_type.status_code, wrong_type.json()["code"]) == (415, "unsupported_media_type")


def test_a_server_error_under_the_api_is_json(api, settings, monkeypatch):
    settings.DEBUG = False

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(trading_services, "account_open", broken)
    response = api.get("/api/v1/account")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


def test_the_chat_send_limit_answers_429_with_retry_after(api, alice, settings):
    settings.STOCKCHAT_CHAT_SENDS_PER_MINUTE = 1
    conversation = chat_services.group_create(user=alice, title="Desk")
    path = f"/api/v1/conversations/{conversation.pk}/messages"
    assert post_json(api, path, '{"body": "one"}').status_code == 201
    response = post_json(api, path, '{"body": "two"}')
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_cancelling_an_order_answers_200_with_the_order_as_documented(api, alice):
    order = trading_services.order_place(
        user=alice, symbol="ACME", side="buy", type="limit", quantity=1, limit_price="1"
    )
    response = api.delete(f"/api/v1/orders/{order.pk}")
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"


# --- the docs list every code -----------------------------------------------------------------


def _documented_codes() -> set[str]:
    # The API's error table in docs/trading.md (the socket's own codes are elsewhere).
    text = (DOCS / "trading.md").read_text()
    table = text[text.index("### Errors") : text.index("## Real-time events")]
    return set(re.findall(r"`([a-z_]+)`", table))


def test_every_error_code_of_the_api_is_in_the_docs():
    missing = sorted(error_codes() - _documented_codes())
    assert not missing, f"error codes the API answers but the docs do not list: {missing}"


def test_every_service_error_code_is_in_the_schema():
    # Codes raised in services, selectors and API modules (constants and literals).
    root = Path(__file__).resolve().parents[2]
    sources = [
        *root.glob("trading/services/*.py"),
        *(root / app / name for app in ("trading", "chat", "accounts") for name in ("selectors.py", "api.py")),
        root / "chat/services.py",
        root / "accounts/authentication.py",
    ]
    found: set[str] = set()
    for source in sources:
        if not source.exists():
            continue
        text = source.read_text()
        constants = dict(re.findall(r'^([A-Z_]+) = "([a-z_]+)"$', text, flags=re.MULTILINE))
        for name in re.findall(r"(?:ServiceError|InputError)\(\s*([A-Z_]+)", text):
            if name in constants:
                found.add(constants[name])
        found.update(re.findall(r'code="([a-z_]+)"', text))
        found.update(re.findall(r'failed\("([a-z_]+)"', text))
    assert found, "the scan found no codes"
    missing = sorted(found - error_codes())
    assert not missing, f"codes raised but not in core.openapi.API_ERRORS: {missing}"
    assert 404 in API_ERRORS
