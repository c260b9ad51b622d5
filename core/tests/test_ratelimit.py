"""core/ratelimit.py on the local-memory cache: the sliding window, Retry-After, peek and reset,
concurrency within one process, and what happens when Redis cannot be reached."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import redis

from core import ratelimit

# A moment 10 s into a 60 s window (the windows are aligned to the epoch).
T = 1_800_000_000.0 + 10
# A hit fits just after the Retry-After seconds have passed: a client's retry always comes later.
JUST = 0.001


def hits(count: int, *, limit: int, window: int = 60, now: float = T, key: str = "k") -> list[bool]:
    return [ratelimit.hit("test", key, limit=limit, window=window, now=now).allowed for _ in range(count)]


def test_exactly_the_limit_is_allowed_and_refusals_are_not_counted():
    assert hits(5, limit=3) == [True, True, True, False, False]
    decision = ratelimit.peek("test", "k", limit=3, window=60, now=T)
    assert (decision.allowed, decision.remaining, decision.used) == (False, 0, 3)
    # Refused hits did not count: the next window starts from the three that were allowed.
    late_in_the_next_window = T + 50 + 57
    assert ratelimit.peek("test", "k", limit=3, window=60, now=late_in_the_next_window).used == pytest.approx(
        3 * 3 / 60
    )


def test_keys_and_scopes_count_apart():
    assert hits(2, limit=2, key="a") == [True, True]
    assert hits(1, limit=2, key="b") == [True]
    assert ratelimit.hit("other", "a", limit=2, window=60, now=T).allowed


def test_a_refusal_says_when_a_hit_fits_again():
    hits(3, limit=3)
    refused = ratelimit.hit("test", "k", limit=3, window=60, now=T)
    # 10 s into the window: the three count in full until it ends, 50 s later; then the previous
    # window's three weigh 3 x (1 - elapsed) and the first fraction of a second lets one through.
    assert refused.retry_after == 50
    assert hits(1, limit=3, now=T + refused.retry_after - JUST) == [False]
    assert hits(1, limit=3, now=T + refused.retry_after + JUST) == [True]


def test_the_previous_window_weighs_by_the_share_still_inside_the_sliding_window():
    hits(10, limit=10)
    # 30 s into the next window half the previous window is still inside the last minute: 5 count.
    halfway = T - 10 + 60 + 30
    assert hits(6, limit=10, now=halfway) == [True] * 5 + [False]
    # Just after, floor(10 x share) is 4: one more fits.
    assert hits(2, limit=10, now=halfway + 1) == [True, False]
    # The next once floor(10 x share) is 3: share below 0.4, 36 s into the window.
    refused = ratelimit.peek("test", "k", limit=10, window=60, now=halfway + 1)
    assert refused.retry_after == 5
    assert hits(1, limit=10, now=halfway + 1 + 5 - JUST) == [False]
    assert hits(1, limit=10, now=halfway + 1 + 5 + JUST) == [True]


def test_no_burst_of_twice_the_limit_across_a_window_boundary():
    end_of_window = T - 10 + 59.9
    assert hits(10, limit=10, now=end_of_window) == [True] * 10
    # A fixed window would allow ten more a moment later; the sliding one the one that rounding down gives.
    assert hits(10, limit=10, now=end_of_window + 0.2) == [True] + [False] * 9


def test_one_a_minute_is_refused_for_at_most_a_minute():
    for offset in (0, 30, 59.5):
        start, key = T - 10 + offset, f"at-{offset}"
        assert hits(2, limit=1, now=start, key=key) == [True, False]
        wait = ratelimit.peek("test", key, limit=1, window=60, now=start).retry_after
        assert 1 <= wait <= 60
        assert hits(1, limit=1, now=start + wait + JUST, key=key) == [True]


def test_peek_counts_nothing_and_reset_forgets():
    for _ in range(3):
        assert ratelimit.peek("test", "k", limit=1, window=60, now=T).allowed
    assert hits(2, limit=1) == [True, False]
    ratelimit.reset("test", "k", window=60, now=T)
    assert hits(1, limit=1) == [True]


def test_bad_arguments_and_rates_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        ratelimit.hit("test", "k", limit=0, window=60)
    assert ratelimit.parse_rate("600/minute") == (600, 60)
    for junk in ("lots", "0/minute", "10/minutes", "10 / minute", "-1/day"):
        with pytest.raises(ValueError, match="not a rate like 600/minute"):
            ratelimit.parse_rate(junk)


def test_threads_in_one_process_share_exactly_the_limit():
    barrier = threading.Barrier(8)
    allowed = []

    def work() -> None:
        barrier.wait()
        allowed.extend(ratelimit.hit("test", "shared", limit=50, window=86400).allowed for _ in range(20))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 50


def test_without_redis_a_hit_is_allowed_unless_strict(unreachable_redis):
    decision = ratelimit.hit("test", "k", limit=1, window=60)
    assert decision.allowed
    with pytest.raises(redis.ConnectionError):
        ratelimit.hit("test", "k", limit=1, window=60, strict=True)


def test_the_api_throttle_counts_anonymous_clients_by_address(settings):
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from core.api import ScopedThrottle

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"probe": "2/minute"}}
    view = SimpleNamespace(throttle_scope="probe")

    def allowed(address: str) -> bool:
        request = Request(APIRequestFactory().post("/", REMOTE_ADDR=address))
        request.user = AnonymousUser()
        throttle = ScopedThrottle()
        answer = throttle.allow_request(request, view)
        assert answer or 1 <= throttle.wait() <= 60
        return answer

    assert [allowed("198.51.100.1") for _ in range(3)] == [True, True, False]
    assert allowed("198.51.100.2")
    assert ScopedThrottle().allow_request(Request(APIRequestFactory().post("/")), SimpleNamespace())
