"""Limits on failed sign-in attempts, counted in Django's cache.

With Redis as the cache (``REDIS_URL``) the counts are shared by every process;
with the local-memory cache they hold per process.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _keys(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    address = request.META.get("REMOTE_ADDR", "unknown")
    return [
        (f"accounts.login.user.{name}", settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_USER),
        (f"accounts.login.addr.{address}", settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_ADDRESS),
    ]


def login_blocked(request: HttpRequest, username: str) -> bool:
    """True when the user name or the client address has used up its failed attempts."""
    return any((cache.get(key) or 0) >= limit for key, limit in _keys(request, username))


def login_failed(request: HttpRequest, username: str) -> None:
    window = settings.STOCKCHAT_LOGIN_WINDOW_SECONDS
    for key, _ in _keys(request, username):
        # add() starts the window; incr() is atomic in both Redis and local memory.
        if not cache.add(key, 1, window):
            try:
                cache.incr(key)
            except ValueError:
                cache.add(key, 1, window)  # expired between add() and incr()


def login_succeeded(request: HttpRequest, username: str) -> None:
    key, _ = _keys(request, username)[0]
    cache.delete(key)
