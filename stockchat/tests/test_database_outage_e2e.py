"""While PostgreSQL or Redis is down, a web process answers 503 (JSON for the API), never a bare 500.

A real daphne on the PostgreSQL test database, with the pool (the default) and without it
(``DATABASE_POOL_MAX_SIZE=0``); PostgreSQL is stopped (its data kept), then started again, and the
same process serves again without a restart. Likewise with Redis (the cache behind the order
throttle) stopped and started on its port.
"""

from __future__ import annotations

import http.client
import json

import pytest
from django.db import connections
from django.utils import timezone

from accounts.services import api_token_create
from conftest import session_cookie_for
from stockchat.views import BUSY_DETAIL, BUSY_RETRY_AFTER_SECONDS, UNAVAILABLE_DETAIL, UNAVAILABLE_RETRY_AFTER_SECONDS
from testsupport.processes import app_environment, start_daphne
from trading.models import Order
from trading.tests.conftest import new_stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# With the pool a request waits for a connection that never comes (the pool cannot connect), and
# is refused before it could change anything; without it, connecting fails outright.
EXPECTED = {
    "pooled": ("busy", BUSY_DETAIL, BUSY_RETRY_AFTER_SECONDS),
    "unpooled": ("unavailable", UNAVAILABLE_DETAIL, UNAVAILABLE_RETRY_AFTER_SECONDS),
}


def request(port: int, method: str, path: str, headers: dict[str, str], body: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = json.dumps(body) if body is not None else None
        if payload is not None:
            headers = {**headers, "Content-Type": "application/json"}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
    finally:
        conn.close()


@pytest.mark.parametrize("pool", ["pooled", "unpooled"])
def test_requests_get_503_while_postgresql_is_down_and_are_served_once_it_is_back(pool, make_user, postgres_server):
    code, detail, retry_after = EXPECTED[pool]
    alice = make_user("alice")
    _, token = api_token_create(user=alice, name="outage")
    api = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1"}
    page = {"Cookie": session_cookie_for(alice), "Host": "127.0.0.1"}
    # A shorter wait for a pooled connection than the default 10 s, but longer than the pool's
    # delay between two attempts to connect again once it has given up a round (see below).
    env = app_environment(STOCKCHAT_MARKET_FEED="off", DATABASE_POOL_TIMEOUT="3")
    if pool == "unpooled":
        env["DATABASE_POOL_MAX_SIZE"] = "0"
    daphne, port = start_daphne(env)
    try:
        assert request(port, "GET", "/api/v1/account", api)[0] == 200
        connections.close_all()
        postgres_server.pause()
        try:
            order = {"symbol": "ACME", "side": "buy", "type": "market", "quantity": 1, "client_order_id": "o-1"}
            for method, path, body in [("GET", "/api/v1/account", None), ("POST", "/api/v1/orders", order)]:
                status, headers, text = request(port, method, path, api, body)
                assert status == 503, text
                assert headers["content-type"] == "application/json"
                assert json.loads(text) == {"code": code, "detail": detail}
                assert headers["retry-after"] == str(retry_after)
            status, headers, text = request(port, "GET", "/dashboard/", page)
            assert status == 503, text
            assert detail in text
            assert headers["retry-after"] == str(retry_after)
        finally:
            postgres_server.resume()
        # The same process serves the first request after PostgreSQL is back: the pool connects
        # anew at once, rather than at the end of a backoff that grew for as long as the outage.
        status, _, text = request(port, "GET", "/api/v1/account", api)
        assert status == 200, text
    finally:
        daphne.stop()
        connections.close_all()


def test_an_order_gets_503_while_redis_is_down_and_is_placed_once_it_is_back(make_user, redis_server, redis_url):
    # The order throttle counts in Django's cache, which is Redis in production.
    new_stock("ACME", price="100.00", at=timezone.now())
    _, token = api_token_create(user=make_user("alice"), name="outage")
    api = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1"}
    order = {"symbol": "ACME", "side": "buy", "type": "market", "quantity": 1, "client_order_id": "o-1"}
    daphne, port = start_daphne(app_environment(STOCKCHAT_MARKET_FEED="off", REDIS_URL=redis_url))
    try:
        redis_server.stop(remove=False)
        try:
            status, headers, text = request(port, "POST", "/api/v1/orders", api, order)
            assert status == 503, text
            assert json.loads(text) == {"code": "unavailable", "detail": UNAVAILABLE_DETAIL}
            assert headers["retry-after"] == str(UNAVAILABLE_RETRY_AFTER_SECONDS)
        finally:
            redis_server.start()
        status, _, text = request(port, "POST", "/api/v1/orders", api, order)
        assert status == 201, text
    finally:
        daphne.stop()
    assert Order.objects.filter(client_order_id="o-1").count() == 1
