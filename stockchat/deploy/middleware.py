"""Production middleware: request ids, the load balancer's health check, CSP.

Order in ``MIDDLEWARE`` matters: request ids first (so every later log line
has one), then the Content-Security-Policy header (so every response gets
it), then the health checks (``/healthz``, ``/readyz``), answered before Django validates the Host header
or redirects to HTTPS: a load balancer probes each target on its private IP
over plain HTTP.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync, iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

from stockchat.deploy.logs import request_id_var

request_logger = logging.getLogger("stockchat.request")

REQUEST_ID_HEADER = "X-Request-ID"
AMAZON_TRACE_HEADER = "X-Amzn-Trace-Id"
# An incoming id is kept only if it is short and harmless in a log line.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:=+/-]{1,128}$")
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"


def _incoming_request_id(request: HttpRequest) -> str:
    # The caller's id, else the ALB's trace id (so log lines match the load
    # balancer's access log), else a new one.
    for header in (REQUEST_ID_HEADER, AMAZON_TRACE_HEADER):
        candidate = request.headers.get(header, "")
        if VALID_REQUEST_ID.match(candidate):
            return candidate
    return uuid.uuid4().hex


def _log_request(request: HttpRequest, status: int, started: float) -> None:
    # The path only: query strings, headers and bodies can carry credentials.
    request_logger.info(
        "%s %s %s",
        request.method,
        request.path,
        status,
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            # Behind a load balancer, the address client_address_middleware derived.
            "client": request.META.get("REMOTE_ADDR"),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )


@sync_and_async_middleware
def request_id_middleware(get_response: Callable) -> Callable:
    """Gives each request an id (the caller's X-Request-ID if valid), logs it, returns it."""

    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            request.request_id = _incoming_request_id(request)
            token = request_id_var.set(request.request_id)
            started = time.perf_counter()
            try:
                response = await get_response(request)
                response[REQUEST_ID_HEADER] = request.request_id
                _log_request(request, response.status_code, started)
                return response
            finally:
                request_id_var.reset(token)

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            request.request_id = _incoming_request_id(request)
            token = request_id_var.set(request.request_id)
            started = time.perf_counter()
            try:
                response = get_response(request)
                response[REQUEST_ID_HEADER] = request.request_id
                _log_request(request, response.status_code, started)
                return response
            finally:
                request_id_var.reset(token)

    return middleware


def _health_view(request: HttpRequest) -> Callable | None:
    from stockchat.views import healthz, readyz

    if request.method != "GET":
        return None
    return {HEALTH_PATH: healthz, READY_PATH: readyz}.get(request.path)


@sync_and_async_middleware
def health_check_middleware(get_response: Callable) -> Callable:
    """Answers ``/healthz`` and ``/readyz`` for any Host and over plain HTTP; everything else passes on."""

    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            view = _health_view(request)
            if view is not None:
                return await view(request)
            return await get_response(request)

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            view = _health_view(request)
            if view is not None:
                return async_to_sync(view)(request)
            return get_response(request)

    return middleware


def build_policy(directives: dict[str, list[str]], request: HttpRequest) -> str:
    sources = {name: list(values) for name, values in directives.items()}
    try:
        host = request.get_host()
    except Exception:  # DisallowedHost: no socket origin to allow for an unknown host
        host = None
    if host and "connect-src" in sources:
        # 'self' covers ws(s) of this host in current browsers, older Safari needs it spelled out.
        sources["connect-src"].append(f"wss://{host}")
        if not request.is_secure():
            sources["connect-src"].append(f"ws://{host}")
    if "form-action" in sources:
        # Sign-in and sign-out forms post here and are redirected to the identity
        # provider; browsers apply form-action to those redirects too.
        for name in ("OIDC_OP_AUTHORIZATION_ENDPOINT", "OIDC_OP_LOGOUT_ENDPOINT"):
            endpoint = getattr(settings, name, "")
            if endpoint:
                origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint))
                if origin not in sources["form-action"]:
                    sources["form-action"].append(origin)
    return "; ".join(" ".join([name, *values]) for name, values in sources.items())


@sync_and_async_middleware
def content_security_policy_middleware(get_response: Callable) -> Callable:
    """Sets Content-Security-Policy from ``settings.CSP_DIRECTIVES`` unless a view set its own."""

    def add_header(request: HttpResponse, response: HttpResponse) -> HttpResponse:
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = build_policy(settings.CSP_DIRECTIVES, request)
        return response

    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            return add_header(request, await get_response(request))

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            return add_header(request, get_response(request))

    return middleware
