from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from stockchat.health import liveness_report, readiness_report

# Seconds a client is asked to wait when every pooled database connection is in use.
BUSY_RETRY_AFTER_SECONDS = 5
BUSY_DETAIL = "stockchat is busy right now. Nothing was changed; please try again in a few seconds."
# ... and when the database or Redis cannot be reached (or broke off) at all. Whether a write
# went through is not known then: a client sends it again with the same idempotency key
# (client_order_id, client_message_id), which the services honour.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5
UNAVAILABLE_DETAIL = (
    "stockchat cannot reach its database or cache right now; please try again in a few seconds "
    "(a request with a client_order_id or client_message_id is safe to send again)."
)


@never_cache
@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness, for the load balancer and the container health check: never touches a backend."""
    return JsonResponse(liveness_report())


@never_cache
@require_GET
async def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness, for operators and dashboards: 503 while PostgreSQL or Redis does not answer."""
    report = await readiness_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def _backing_service_failure(exc: BaseException | None) -> str | None:
    """``busy`` when no pooled database connection came free in time; ``unavailable`` when PostgreSQL
    could not be reached or broke off (connection refused or lost, shutdown, too many connections, a
    deadlock or serialisation failure: psycopg's OperationalError and InterfaceError), or Redis could
    not be reached (the cache behind rate limits and throttles); None for anything else."""
    import psycopg
    import redis
    from psycopg_pool import PoolTimeout

    failure = None
    while exc is not None:
        if isinstance(exc, PoolTimeout):
            return "busy"
        if isinstance(
            exc, psycopg.OperationalError | psycopg.InterfaceError | redis.ConnectionError | redis.TimeoutError
        ):
            failure = "unavailable"
        exc = exc.__cause__ or exc.__context__
    return failure


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _api_not_found() -> JsonResponse:
    return JsonResponse({"code": "not_found", "detail": "No such resource."}, status=404)


@csrf_exempt  # it changes nothing, for any method; a CSRF refusal would hide the 404
def api_not_found(request: HttpRequest) -> HttpResponse:
    """The last route: a path under ``/api/`` that no other route matches (debug pages on or off)."""
    return _api_not_found()


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: every path under ``/api/`` answers JSON, even one that matches no route."""
    if _is_api(request):
        return _api_not_found()
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400`` (a refused Host header, too many form fields, ...)."""
    if _is_api(request):
        return JsonResponse({"code": "bad_request", "detail": "The request could not be understood."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler403``, for the rare refusal that happens outside DRF's views."""
    if _is_api(request):
        return JsonResponse({"code": "permission_denied", "detail": "You may not do this."}, status=403)
    return defaults.permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a 503 with ``Retry-After`` when the database is busy, or it or Redis is
    unavailable; else a 500 (JSON under ``/api/``).

    An exhausted pool is load, and an unreachable database or Redis an outage, not a fault in the request:
    the client is told to retry. The body uses no template context and no database (neither may be
    usable here).
    """
    failure = _backing_service_failure(sys.exc_info()[1])
    if failure is None:
        if _is_api(request):
            return JsonResponse({"code": "server_error", "detail": "Something went wrong on our side."}, status=500)
        return defaults.server_error(request)
    detail, retry_after = (
        (BUSY_DETAIL, BUSY_RETRY_AFTER_SECONDS)
        if failure == "busy"
        else (UNAVAILABLE_DETAIL, UNAVAILABLE_RETRY_AFTER_SECONDS)
    )
    if _is_api(request):
        response = JsonResponse({"code": failure, "detail": detail}, status=503)
    else:
        title = "Busy" if failure == "busy" else "Unavailable"
        response = HttpResponse(
            f"<!doctype html><title>{title} · stockchat</title><h1>{title}</h1><p>{detail}</p>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(retry_after)
    return response
