"""The order throttle under real concurrency on a real Redis: exactly the limit gets through.

DRF's own throttle read the request history, appended and wrote it back (two round trips, no
lock), so concurrent requests read the same history and together went past the limit (640 orders
accepted for 600 under load).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from django.db import connections
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.cache import redis_cache
from trading.api.orders import OrderListView
from trading.models import Order
from trading.tests.conftest import client_for

THREADS = 12


@pytest.fixture
def redis_cache_only(settings, redis_url):
    # Its own key prefix: counts from other tests or runs never meet this test's.
    settings.CACHES = {"default": {**redis_cache(redis_url), "KEY_PREFIX": f"t-{uuid.uuid4().hex}"}}


def order_rate(settings, rate: str) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"trading-orders": rate}}


def run_together(count: int, work: Callable[[int], list[bool]]) -> list[bool]:
    """``work(i)`` in ``count`` threads released at once; every thread's results, in one list."""
    barrier = threading.Barrier(count, timeout=60)
    results: list[list[bool]] = [[] for _ in range(count)]
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a worker thread hung"
    if errors:
        raise errors[0]
    return [allowed for result in results for allowed in result]


def test_concurrent_order_posts_pass_the_throttle_exactly_up_to_the_limit(settings, redis_cache_only):
    # Per day: the test does not straddle a window boundary in any way that matters.
    order_rate(settings, "150/day")
    user = SimpleNamespace(pk=4242, is_authenticated=True)
    factory = APIRequestFactory()

    def attempts(_: int) -> list[bool]:
        answers = []
        for _ in range(25):
            request = Request(factory.post("/api/v1/orders"))
            request.user = user
            view = OrderListView()
            view.request = request
            try:
                view.check_throttles(request)
            except Throttled:
                answers.append(False)
            else:
                answers.append(True)
        return answers

    answers = run_together(THREADS, attempts)
    assert len(answers) == THREADS * 25
    assert answers.count(True) == 150


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_through_the_api_on_postgresql_and_redis_stop_at_the_limit(
    settings, redis_cache_only, trader, stock
):
    order_rate(settings, "10/day")

    def post_orders(_: int) -> list[bool]:
        client = client_for(trader)
        answers = []
        for _ in range(3):
            response = client.post(
                "/api/v1/orders", {"symbol": "ACME", "side": "buy", "quantity": 1}, content_type="application/json"
            )
            assert response.status_code in (201, 429), response.content
            if response.status_code == 429:
                assert response.json()["code"] == "throttled"
                assert 1 <= int(response["Retry-After"]) <= 86400
            answers.append(response.status_code == 201)
        return answers

    answers = run_together(8, post_orders)
    assert answers.count(True) == 10
    assert Order.objects.filter(account__user=trader).count() == 10
