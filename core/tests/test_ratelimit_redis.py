"""core/ratelimit.py on a real Redis: concurrent threads and processes get exactly the limit,
in one round trip per hit, and the counts read back through Django's cache."""

from __future__ import annotations

import multiprocessing
import threading
import uuid

import pytest
import redis
from django.core.cache import caches

from core import ratelimit
from core.cache import redis_cache


@pytest.fixture
def on_redis(settings, redis_url):
    settings.CACHES = {"default": {**redis_cache(redis_url), "KEY_PREFIX": f"t-{uuid.uuid4().hex}"}}
    yield redis_url
    caches["default"].clear()


def test_threads_hitting_one_key_get_exactly_the_limit(on_redis):
    # A day's window: the test does not straddle a boundary in any way that matters.
    barrier = threading.Barrier(16, timeout=60)
    answers: list[bool] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait()
        mine = [ratelimit.hit("test", "shared", limit=200, window=86400).allowed for _ in range(30)]
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == 16 * 30
    assert answers.count(True) == 200


def _hit_in_a_process(args: tuple[int, int]) -> int:
    _, count = args
    return sum(ratelimit.hit("test", "processes", limit=100, window=86400).allowed for _ in range(count))


def test_processes_hitting_one_key_get_exactly_the_limit(on_redis):
    # Forked after the settings point the cache at Redis: each child has its own connections.
    caches["default"].close()
    with multiprocessing.get_context("fork").Pool(4) as pool:
        allowed = pool.map(_hit_in_a_process, [(n, 60) for n in range(4)])
    assert sum(allowed) == 100


def test_a_hit_is_one_round_trip(on_redis, monkeypatch):
    ratelimit.hit("test", "warm", limit=5, window=60)  # loads the script on the server
    sent = []
    original = redis.connection.Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting)
    for _ in range(3):
        ratelimit.hit("test", "trips", limit=5, window=60)
    assert len(sent) == 3


def test_a_restarted_redis_gets_the_script_again(on_redis):
    ratelimit.hit("test", "k", limit=5, window=60)
    redis.Redis.from_url(on_redis).script_flush()
    assert ratelimit.hit("test", "k", limit=5, window=60).remaining == 3


def test_counts_are_plain_integers_under_the_cache_prefix(on_redis):
    decision = ratelimit.hit("test", "visible", limit=5, window=86400, now=1_800_000_000.0)
    assert decision.remaining == 4
    key = f"ratelimit:test:visible:{1_800_000_000 // 86400}"
    assert caches["default"].get(key) == 1
