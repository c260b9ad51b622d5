"""What the trading API's modules share: query parameters and a stock's quote."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from rest_framework.request import Request

from core.errors import ServiceError
from trading.models import Quote, Stock

INVALID_QUERY = "invalid_query"


def query_choice(request: Request, name: str, choices, default: str | None = None) -> str | None:
    value = request.query_params.get(name, default)
    if value is not None and value not in choices:
        raise ServiceError(INVALID_QUERY, f"{name} must be one of {', '.join(choices)}.")
    return value


def query_time(request: Request, name: str):
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ServiceError(INVALID_QUERY, f"{name} must be an ISO 8601 time with a time zone (e.g. 2026-01-02T00:00Z).")
    return value


def quote_of(stock: Stock) -> Quote | None:
    # A missing reverse one-to-one raises an AttributeError subclass.
    return getattr(stock, "quote", None)
