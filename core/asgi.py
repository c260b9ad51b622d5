"""Django's HTTP side in one thread hop per request.

Django's own ASGI handler builds the middleware chain in async mode. Every middleware that is only
sync-capable then costs thread switches (``MiddlewareMixin`` runs ``process_request`` and
``process_response`` through ``sync_to_async`` one by one), and so do the ``request_started``
signal, a sync view and the response's ``close()``: about a dozen switches per request, each a
queue round trip between the event loop and a thread, and a new thread per request besides
(``ThreadSensitiveContext``). That was 60% of the CPU of a view returning a constant.

``OneHopASGIHandler`` builds the chain in sync mode, as under WSGI, and runs the ``request_started``
signal, the whole chain, the view and, for a response whose body is already in memory, its
``close()`` (``request_finished``: the database connection goes back to the pool) in one call on
a pooled worker thread. The event loop only reads the request body and writes the response.
A streaming response (a static file) is closed after it is sent, with one more hop, as before.

Paths whose views are async (the health checks, which must answer while every worker thread
waits on the database) keep Django's async handling on the event loop: ``loop_paths``.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

# Without a setting: enough threads for the database pool's connections and the requests that use
# none; more only queue on the pool (DATABASE_POOL_MAX_SIZE), fewer leave the core idle.
DEFAULT_REQUEST_THREADS = 32


class OneHopASGIHandler(ASGIHandler):
    """An ``ASGIHandler`` whose requests cross from the event loop to a thread once.

    Threads are reused across requests (a ``ThreadPoolExecutor`` of ``settings.REQUEST_THREADS``);
    each request's sync work runs in one of them from start to end, so thread-bound state (the
    database connection) is the request's own for its whole length and is released by
    ``request_finished`` before the thread takes the next request.
    """

    def __init__(self, *, loop_paths: Iterable[str] = ()) -> None:
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.loop_paths = frozenset(loop_paths)
        # Django's own handler (async chain) for the paths served on the loop.
        self.loop_handler = ASGIHandler() if self.loop_paths else None
        threads = getattr(settings, "REQUEST_THREADS", DEFAULT_REQUEST_THREADS)
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="request")

    async def handle(self, scope: dict[str, Any], receive, send) -> None:
        if self.loop_handler is not None and scope["path"] in self.loop_paths:
            await self.loop_handler.handle(scope, receive, send)
            return
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response = await self.in_thread(self.serve)(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await self.in_thread(response.close)()
        finally:
            body_file.close()

    def in_thread(self, function):
        return sync_to_async(function, thread_sensitive=False, executor=self.executor)

    def serve(self, scope: dict[str, Any], body_file) -> HttpResponseBase:
        """Everything Django does for a request but reading and writing the socket (worker thread)."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            response = error_response
        else:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                # The server chunks the body itself (as Django's ASGIHandler sets it).
                response.block_size = self.chunk_size
        if not response.streaming:
            # The body is in memory: closing now releases the request's resources (its database
            # connection, uploaded files) without another hop after the response is sent.
            response.close()
        return response


def get_one_hop_asgi_application(*, loop_paths: Iterable[str] = ()) -> OneHopASGIHandler:
    """``django.core.asgi.get_asgi_application`` with ``OneHopASGIHandler``."""
    django.setup(set_prefix=False)
    return OneHopASGIHandler(loop_paths=loop_paths)
