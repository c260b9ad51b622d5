"""Stocks, their bars and quotes in the REST API (``/api/v1/assets``)."""

from __future__ import annotations

from collections.abc import Iterable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import FieldsBuiltOnce, OldestFirstPagination, TextCursorPagination
from core.formats import api_datetime, api_decimal
from core.money import PRICE_STEP
from trading import selectors
from trading.api.common import query_choice, query_time, quote_of
from trading.models import BarInterval, PriceBar, Quote, Stock


class QuoteSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    symbol = serializers.CharField(source="stock.symbol")
    change = serializers.DecimalField(max_digits=14, decimal_places=4)
    change_percent = serializers.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        model = Quote
        fields = ["symbol", "price", "previous_close", "change", "change_percent", "updated_at"]


class StockSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    name = serializers.CharField(source="company.name")
    sector = serializers.CharField(source="company.sector")
    price = serializers.SerializerMethodField()
    previous_close = serializers.SerializerMethodField()

    class Meta:
        model = Stock
        fields = ["symbol", "name", "sector", "exchange", "currency", "tradable", "halted", "price", "previous_close"]

    def get_price(self, stock: Stock) -> str | None:
        quote = quote_of(stock)
        return None if quote is None else str(quote.price)

    def get_previous_close(self, stock: Stock) -> str | None:
        quote = quote_of(stock)
        return None if quote is None else str(quote.previous_close)


class StockDetailSerializer(StockSerializer):
    description = serializers.CharField(source="company.description")
    website = serializers.CharField(source="company.website")

    class Meta(StockSerializer.Meta):
        fields = [*StockSerializer.Meta.fields, "description", "website"]


class BarSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriceBar
        fields = ["start", "open", "high", "low", "close", "volume"]


class StockPagination(TextCursorPagination):
    ordering = "symbol"
    page_size = 100


class StockListView(ListAPIView):
    serializer_class = StockSerializer
    pagination_class = StockPagination

    @extend_schema(parameters=[OpenApiParameter("search", str), OpenApiParameter("sector", str)])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return selectors.stock_list(viewer=self.request.user, search=params.get("search"), sector=params.get("sector"))


class StockDetailView(GenericAPIView):
    serializer_class = StockDetailSerializer

    def get(self, request: Request, symbol: str) -> Response:
        return Response(StockDetailSerializer(selectors.stock_get(viewer=request.user, symbol=symbol)).data)


def _bar_rows(rows: Iterable[dict]) -> list[dict]:
    """Bars as ``BarSerializer`` renders them, from ``values()`` rows."""
    return [
        {
            "start": api_datetime(row["start"]),
            "open": api_decimal(row["open"], PRICE_STEP),
            "high": api_decimal(row["high"], PRICE_STEP),
            "low": api_decimal(row["low"], PRICE_STEP),
            "close": api_decimal(row["close"], PRICE_STEP),
            "volume": row["volume"],
        }
        for row in rows
    ]


class BarListView(ListAPIView):
    serializer_class = BarSerializer  # the documented shape; rows are rendered by _bar_rows
    pagination_class = OldestFirstPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("interval", str, enum=BarInterval.values),
            OpenApiParameter("start", OpenApiTypes.DATETIME, description="ISO 8601 time with a zone, inclusive"),
            OpenApiParameter("end", OpenApiTypes.DATETIME, description="ISO 8601 time with a zone, exclusive"),
        ]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        # The cursor reads each row's "start" by key, so plain rows page as model instances do.
        page = self.paginate_queryset(self.get_queryset().values(*BarSerializer.Meta.fields))
        return self.get_paginated_response(_bar_rows(page))

    def get_queryset(self):
        return selectors.bar_list(
            viewer=self.request.user,
            symbol=self.kwargs["symbol"],
            interval=query_choice(self.request, "interval", BarInterval.values, BarInterval.DAY),
            start=query_time(self.request, "start"),
            end=query_time(self.request, "end"),
        )


class QuoteView(GenericAPIView):
    serializer_class = QuoteSerializer

    def get(self, request: Request, symbol: str) -> Response:
        return Response(QuoteSerializer(selectors.quote_get(viewer=request.user, symbol=symbol)).data)
