"""Rate limits counted in Django's cache: sign-in failures, chat sends, orders, the API throttle.

One algorithm for all of them, a **sliding window counter**: each key has a count per
fixed window (``window`` seconds, aligned to the epoch) and a hit is allowed while

    floor(previous window's count x share of it still inside the last ``window`` seconds)
    + this window's count + cost  <=  limit

It bounds "at most ``limit`` in any ``window`` seconds" as traffic usually arrives, without the
burst of twice the limit that fixed windows allow across a boundary, and without the list of
timestamps a sliding log keeps (DRF's throttle stored one per request, read and rewrote it on each
request, and so let concurrent requests past the limit). The estimate is rounded down so that a
limit of one a minute is one a minute, not one every two: a refusal never has to wait more than
``window`` seconds, which is what ``Retry-After`` promises.

The decision is atomic, so that N concurrent hits on one key allow exactly ``limit``:

- on Redis (``django.core.cache.backends.redis.RedisCache``), one Lua script, one round trip:
  read both counts, add the cost only when it fits, set the expiry;
- on any other cache (local memory: one process), ``cache.add`` + ``cache.incr`` first and a
  ``decr`` to hand the slot back when it did not fit: a hit is allowed only on the value its own
  ``incr`` returned, so two hits never take the same slot.

A refused hit is not counted (a client that keeps knocking is not locked out for longer). The
windows come from each web process's clock: the skew NTP leaves between processes only moves the
weighting by as much.

When Redis cannot be reached, ``hit`` and ``peek`` allow (and log) unless called with
``strict=True``, which lets the error through: the order throttle and sign-in do that, so the
request ends as a ``503 unavailable`` (stockchat/views.py) rather than running unlimited.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
RATE_FORMAT = re.compile(r"([1-9][0-9]*)/(second|minute|hour|day)")

# KEYS: this window's count, the previous window's. ARGV: limit, share of the previous window
# still inside the sliding window, cost, expiry (ms). Returns {allowed, this count, previous count}.
_HIT_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local cost = tonumber(ARGV[3])
if cost > 0 and math.floor(previous * tonumber(ARGV[2])) + current + cost <= tonumber(ARGV[1]) then
  current = redis.call('INCRBY', KEYS[1], cost)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {1, current, previous}
end
return {0, current, previous}
"""
_HIT_SHA = hashlib.sha1(_HIT_SCRIPT.encode(), usedforsecurity=False).hexdigest()  # the name Redis gives it


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int  # hits that would still be allowed now
    retry_after: int  # seconds until a hit of cost 1 fits (just after them), rounded up; 0 when one fits now
    used: float  # the sliding window's count (the previous window weighted by its share)


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/minute"`` -> ``(600, 60)``; ``ValueError`` for anything else."""
    match = RATE_FORMAT.fullmatch(rate)
    if match is None:
        raise ValueError(f"{rate!r} is not a rate like 600/minute (a count per second, minute, hour or day).")
    return int(match[1]), PERIODS[match[2]]


def hit(
    scope: str, key: str, *, limit: int, window: int, cost: int = 1, strict: bool = False, now: float | None = None
) -> Decision:
    """Count ``cost`` against ``limit`` per ``window`` seconds for ``key`` in ``scope``, if it fits.

    ``scope`` and ``key`` become part of a cache key: short ASCII without spaces (hash anything
    a client typed).
    """
    if limit < 1 or window < 1 or cost < 0:
        raise ValueError("limit and window must be at least 1, cost at least 0")
    return _decide(scope, key, limit=limit, window=window, cost=cost, strict=strict, now=now)


def peek(scope: str, key: str, *, limit: int, window: int, strict: bool = False, now: float | None = None) -> Decision:
    """What ``hit`` would decide for a cost of 1, without counting anything."""
    return hit(scope, key, limit=limit, window=window, cost=0, strict=strict, now=now)


def reset(scope: str, key: str, *, window: int, now: float | None = None) -> None:
    """Forget every count of ``key`` in ``scope`` (both windows)."""
    current, previous, _ = _window_keys(scope, key, window, time.time() if now is None else now)
    caches["default"].delete_many([current, previous])


def throttle_user(scope: str, user) -> Decision:
    """One request of ``user`` against the API throttle ``scope``; see ``api_throttle``."""
    return api_throttle(scope, f"user.{user.pk}")


def api_throttle(scope: str, ident: str) -> Decision:
    """One request of the client ``ident`` against the API throttle ``scope``, at its rate in
    ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (read on each call, as DRF's own throttles do
    not). Strict: while Redis cannot be reached the error goes up and the request ends as
    ``503 unavailable``, as it did under DRF's throttle."""
    limit, window = parse_rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope])
    return hit(f"throttle.{scope}", ident, limit=limit, window=window, strict=True)


def _window_keys(scope: str, key: str, window: int, now: float) -> tuple[str, str, float]:
    index, into = divmod(now, window)
    base = f"ratelimit:{scope}:{key}:"
    return f"{base}{int(index)}", f"{base}{int(index) - 1}", 1.0 - into / window


def _decide(scope: str, key: str, *, limit: int, window: int, cost: int, strict: bool, now: float | None) -> Decision:
    now = time.time() if now is None else now
    current_key, previous_key, weight = _window_keys(scope, key, window, now)
    expiry = 2 * window + 1  # this window's count is the next window's previous one
    cache = caches["default"]
    hit_in = _hit_redis if isinstance(cache, RedisCache) else _hit_cache
    try:
        allowed, current, previous = hit_in(cache, current_key, previous_key, limit, weight, cost, expiry)
    except (redis.ConnectionError, redis.TimeoutError):
        if strict:
            raise
        logger.warning("Rate limit %s not applied: Redis cannot be reached", scope, exc_info=True)
        return Decision(allowed=True, limit=limit, remaining=limit, retry_after=0, used=0.0)
    used = previous * weight + current
    counted = math.floor(previous * weight) + current
    if cost == 0:
        allowed = counted + 1 <= limit
    return Decision(
        allowed=allowed,
        limit=limit,
        remaining=max(0, limit - counted),
        retry_after=_retry_after(previous, current, limit, weight, window),
        used=used,
    )


def _hit_redis(
    cache: RedisCache, current_key: str, previous_key: str, limit: int, weight: float, cost: int, expiry: int
) -> tuple[bool, int, int]:
    keys = [cache.make_and_validate_key(current_key), cache.make_and_validate_key(previous_key)]
    # The redis-py client behind Django's cache (its shared pool: core/cache.py); Django's own
    # incr() is EXISTS + INCR, two round trips and not atomic with the add() before it.
    client = cache._cache.get_client(write=True)
    args = [limit, repr(weight), cost, expiry * 1000]
    try:
        reply = client.evalsha(_HIT_SHA, 2, *keys, *args)
    except redis.exceptions.NoScriptError:  # first use on this server, or after a restart
        reply = client.eval(_HIT_SCRIPT, 2, *keys, *args)
    allowed, current, previous = (int(value) for value in reply)
    return bool(allowed), current, previous


def _hit_cache(
    cache: BaseCache, current_key: str, previous_key: str, limit: int, weight: float, cost: int, expiry: int
) -> tuple[bool, int, int]:
    previous = cache.get(previous_key, 0)
    if cost == 0:
        return False, cache.get(current_key, 0), previous
    if cache.add(current_key, cost, expiry):
        current = cost
    else:
        try:
            current = cache.incr(current_key, cost)
        except ValueError:  # expired between add() and incr()
            cache.add(current_key, cost, expiry)
            current = cost
    if math.floor(previous * weight) + current <= limit:
        return True, current, previous
    # Did not fit: hand the slot back. Allowing only on the value this hit's own incr() returned
    # keeps concurrent hits from sharing a slot.
    with contextlib.suppress(ValueError):  # expired meanwhile: nothing to hand back
        cache.decr(current_key, cost)
    return False, current - cost, previous


def _retry_after(previous: int, current: int, limit: int, weight: float, window: int) -> int:
    """Whole seconds until a hit of cost 1 fits, from the counts after this decision."""
    if math.floor(previous * weight) + current + 1 <= limit:
        return 0
    elapsed = 1.0 - weight
    room = limit - current - 1  # what the previous window's weighted count must drop to in this window
    if previous > 0 and room >= 0:
        # floor(previous x (1 - f)) <= room once previous x (1 - f) < room + 1.
        fits_at = 1.0 - (room + 1) / previous
        if fits_at < 1.0:
            return _whole_seconds((max(fits_at, elapsed) - elapsed) * window)
    # In the next window this window's count is the previous one, weighted down from 1.
    fits_at = 0.0 if current + 1 <= limit else min(1.0, 1.0 - limit / current)
    return _whole_seconds((1.0 - elapsed + fits_at) * window)


def _whole_seconds(seconds: float) -> int:
    # Rounded to the microsecond first: 5.0000000001 is 5, not 6. A hit fits just after that
    # moment, so one arriving then (any later at all) gets through: refused for at most ``window``.
    return max(1, math.ceil(round(seconds, 6)))
