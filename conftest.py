"""Fixtures shared by every app's tests."""

from __future__ import annotations

import socket

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from core.cache import redis_cache


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # Production serves hashed names from a manifest that collectstatic writes;
    # tests render templates without running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counts (sign-in failures, chat sends, orders: core/ratelimit.py) live in the
    cache, keyed by user id and address: each test starts with none, as with an empty database."""
    cache.clear()


@pytest.fixture
def unreachable_redis(settings) -> None:
    """Django's cache on a Redis port nothing listens on, as while Redis is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {"default": redis_cache(f"redis://127.0.0.1:{port}/0")}


@pytest.fixture
def make_user(db):
    def make(username: str = "alice", **extra):
        return get_user_model().objects.create_user(username, f"{username}@example.com", "correct-horse-9", **extra)

    return make


def session_cookie_for(user) -> str:
    """A real session for ``user``, as the browser's Cookie header would carry it."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.fixture
def ws_headers():
    """Headers for a WebSocket handshake from this site, signed in as ``user`` if given."""

    async def headers(user=None, origin: str = "http://testserver") -> list[tuple[bytes, bytes]]:
        result = [(b"host", b"testserver"), (b"origin", origin.encode())]
        if user is not None:
            cookie = await database_sync_to_async(session_cookie_for)(user)
            result.append((b"cookie", cookie.encode()))
        return result

    return headers
