"""trading.orders: one order request type that the form, the API, GraphQL and the services validate through."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from core.money import MAX_PRICE, PRICE_STEP
from trading.orders import (
    ERROR_LIMIT_REQUIRED,
    MAX_ORDER_QUANTITY,
    PRICE_TYPES,
    OrderRequest,
    OrderRequestError,
)
from trading.tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_request_names_every_field_that_breaks_a_rule_and_leads_with_the_first():
    with pytest.raises(OrderRequestError) as refused:
        OrderRequest.parse(symbol="ACME", side="buy", type="stop_limit", quantity=0, stop_price="1.00001")
    error = refused.value
    assert (error.code, error.detail) == ("invalid_quantity", error.fields["quantity"][0])
    assert set(error.fields) == {"quantity", "limit_price", "stop_price"}
    assert error.fields["limit_price"] == [ERROR_LIMIT_REQUIRED]


def test_a_valid_request_is_cleaned_once():
    request = OrderRequest.parse(symbol="ACME", side="sell", type="limit", quantity="3", limit_price="9.5")
    assert (request.quantity, request.limit_price, request.stop_price, request.client_order_id) == (
        3,
        Decimal("9.5000"),
        None,
        None,
    )


def test_the_api_answers_an_invalid_order_with_its_fields(trader, stock):
    body = {"symbol": "ACME", "side": "buy", "type": "stop_limit", "quantity": 1}
    response = client_for(trader).post("/api/v1/orders", body, content_type="application/json")
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid_order"
    assert data["fields"] == {"limit_price": [ERROR_LIMIT_REQUIRED], "stop_price": [data["fields"]["stop_price"][0]]}


def test_the_ticket_renders_the_rules_ticket_js_reads(trader, stock):
    # static/js/ticket.js keeps no copy of them: it reads data-order-types, min, max and step.
    html = client_for(trader).get(reverse("stock_detail", args=["ACME"])).content.decode()
    for name, types in PRICE_TYPES.items():
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert f'data-order-types="{" ".join(types)}"' in tag
        assert f'max="{MAX_PRICE}"' in tag
        assert f'step="{PRICE_STEP}"' in tag
    quantity = re.search(r'<input[^>]*name="quantity"[^>]*>', html).group(0)
    assert f'max="{MAX_ORDER_QUANTITY}"' in quantity
