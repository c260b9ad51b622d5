"""One thread hop per HTTP request: the app's ASGI handler (core/asgi.py) as the servers call it.

Every switch between the event loop and a thread goes through asgiref's ``SyncToAsync`` (loop to
thread) or ``AsyncToSync`` (thread to loop); both are counted while the real application
(``stockchat.asgi.application``, with the settings' whole middleware chain) answers one request.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import pytest
from asgiref import sync
from channels.db import database_sync_to_async

from accounts.services import api_token_create
from conftest import session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hops(monkeypatch) -> Counter:
    counted: Counter = Counter()
    to_thread, to_loop = sync.SyncToAsync.__call__, sync.AsyncToSync.__call__

    async def counting_to_thread(self, *args, **kwargs):
        counted["to thread"] += 1
        return await to_thread(self, *args, **kwargs)

    def counting_to_loop(self, *args, **kwargs):
        counted["to loop"] += 1
        return to_loop(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counting_to_thread)
    monkeypatch.setattr(sync.AsyncToSync, "__call__", counting_to_loop)
    return counted


async def serve(path: str, headers: list[tuple[bytes, bytes]], method: str = "GET", body: bytes = b"") -> dict:
    """One request through the ASGI application, as uvicorn or daphne makes it."""
    from stockchat.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        if incoming:
            return incoming.pop(0)
        await asyncio.Event().wait()  # the client stays connected

    async def send(message: dict) -> None:
        sent.append(message)

    await application(scope, receive, send)
    return {"status": sent[0]["status"], "body": b"".join(m.get("body", b"") for m in sent[1:])}


@pytest.fixture
def alice(make_user):
    return make_user("alice")


async def test_a_signed_in_page_costs_one_thread_hop(alice, hops):
    cookie = await database_sync_to_async(session_cookie_for)(alice)
    await serve("/", [(b"cookie", cookie.encode())])  # first request: imports, URL resolver
    hops.clear()
    response = await serve("/", [(b"cookie", cookie.encode()), (b"accept", b"text/html")])
    assert response["status"] == 200
    assert b"alice" in response["body"]
    assert hops == Counter({"to thread": 1})


async def test_an_api_request_with_a_token_costs_one_thread_hop(alice, hops):
    _, token = await database_sync_to_async(api_token_create)(user=alice, name="bot")
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"accept", b"application/json")]
    await serve("/api/v1/account", headers)
    hops.clear()
    response = await serve("/api/v1/account", headers)
    assert response["status"] == 200, response
    assert hops == Counter({"to thread": 1})
    hops.clear()
    # A write with a body: a watchlist created.
    response = await serve(
        "/api/v1/watchlists",
        [*headers, (b"content-type", b"application/json")],
        method="POST",
        body=b'{"name": "tech"}',
    )
    assert response["status"] == 201, response
    assert hops == Counter({"to thread": 1})


async def test_health_checks_answer_while_every_request_thread_is_busy():
    """/healthz and /readyz keep Django's own handling (a thread per request): a process whose pooled
    request threads all wait on the database still answers the load balancer's probe."""
    from stockchat.asgi import django_asgi_app

    release = threading.Event()
    executor = django_asgi_app.executor
    for _ in range(executor._max_workers):
        executor.submit(release.wait)
    try:
        # The timeout only keeps a regression from hanging the suite.
        response = await asyncio.wait_for(serve("/healthz", []), timeout=30)
    finally:
        release.set()
    assert response["status"] == 200
