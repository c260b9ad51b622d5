"""The trading REST API (``/api/v1/``), shaped after Alpaca's trading API.

Views parse input, call one selector or service, and render. Visibility and
ownership are the selectors' business; errors are rendered by
``core.api.exception_handler``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from core.api import (
    DecimalStringField,
    FieldsBuiltOnce,
    NewestFirstPagination,
    OldestFirstPagination,
    StrictInputSerializer,
    TextCursorPagination,
    api_datetime,
    api_decimal,
)
from core.errors import ServiceError
from core.inputs import parse_int
from trading import selectors, services
from trading.models import (
    BarInterval,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    PriceBar,
    Quote,
    Stock,
    TimeInForce,
    Watchlist,
)
from trading.services.common import MAX_ORDER_QUANTITY, PRICE_STEP
from trading.valuation import value_held

INVALID_QUERY = "invalid_query"
CENT = Decimal("0.01")
ORDER_STATUS_FILTERS = ("open", "closed", "all", *OrderStatus.values)


def _query_choice(request: Request, name: str, choices, default: str | None = None) -> str | None:
    value = request.query_params.get(name, default)
    if value is not None and value not in choices:
        raise ServiceError(INVALID_QUERY, f"{name} must be one of {', '.join(choices)}.")
    return value


def _query_time(request: Request, name: str):
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


# --- serializers ---------------------------------------------------------------------


def _quote_of(stock: Stock) -> Quote | None:
    # A missing reverse one-to-one raises an AttributeError subclass.
    return getattr(stock, "quote", None)


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
        quote = _quote_of(stock)
        return None if quote is None else str(quote.price)

    def get_previous_close(self, stock: Stock) -> str | None:
        quote = _quote_of(stock)
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


class OrderSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    symbol = serializers.CharField(source="stock.symbol")

    class Meta:
        model = Order
        fields = [
            "id",
            "client_order_id",
            "symbol",
            "side",
            "type",
            "time_in_force",
            "quantity",
            "limit_price",
            "stop_price",
            "status",
            "filled_quantity",
            "filled_average_price",
            "reserved_amount",
            "reason",
            "submitted_at",
            "updated_at",
            "triggered_at",
            "closed_at",
        ]


class OrderCreateSerializer(StrictInputSerializer):
    symbol = serializers.CharField(max_length=12)
    side = serializers.ChoiceField(choices=OrderSide.choices)
    type = serializers.ChoiceField(choices=OrderType.choices, default=OrderType.MARKET)
    time_in_force = serializers.ChoiceField(choices=TimeInForce.choices, default=TimeInForce.DAY)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_ORDER_QUANTITY)
    limit_price = DecimalStringField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    stop_price = DecimalStringField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    client_order_id = serializers.CharField(max_length=64, required=False, allow_blank=False)


class PositionSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    symbol = serializers.CharField(source="stock.symbol")
    available = serializers.SerializerMethodField()
    cost_basis = serializers.SerializerMethodField()
    current_price = serializers.SerializerMethodField()
    market_value = serializers.SerializerMethodField()
    unrealized_pnl = serializers.SerializerMethodField()
    change_today = serializers.SerializerMethodField(
        help_text="market_value - day_basis: today's change of the shares held (null without a quote)."
    )
    day_basis = serializers.SerializerMethodField(
        help_text=(
            "What the shares held were worth at the start of today: previous close for shares held "
            "since before today, fill price for shares bought today (null without a quote)."
        )
    )

    class Meta:
        model = Position
        fields = [
            "symbol",
            "quantity",
            "available",
            "average_cost",
            "cost_basis",
            "current_price",
            "market_value",
            "unrealized_pnl",
            "realized_pnl",
            "change_today",
            "day_basis",
        ]

    def get_available(self, position: Position) -> int:
        return position.quantity - position.reserved_quantity

    def get_cost_basis(self, position: Position) -> str:
        return str(value_held(position).cost_basis)

    def get_current_price(self, position: Position) -> str | None:
        quote = _quote_of(position.stock)
        return None if quote is None else str(quote.price)

    def get_market_value(self, position: Position) -> str:
        return str(value_held(position).market_value)

    def get_unrealized_pnl(self, position: Position) -> str:
        return str(value_held(position).unrealized_pnl)

    def get_change_today(self, position: Position) -> str | None:
        change = value_held(position).day_change
        return None if change is None else str(change)

    def get_day_basis(self, position: Position) -> str | None:
        value = value_held(position)
        return None if value.day_change is None else str(value.previous_value)


class FillBriefSerializer(FieldsBuiltOnce, serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    symbol = serializers.CharField(source="stock.symbol")
    side = serializers.CharField()
    quantity = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=14, decimal_places=4)
    realized_pnl = serializers.DecimalField(max_digits=18, decimal_places=2)


class ActivitySerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    fill = FillBriefSerializer(allow_null=True)

    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "amount", "balance_after", "memo", "created_at", "fill"]


class AccountSerializer(FieldsBuiltOnce, serializers.Serializer):
    id = serializers.IntegerField()
    currency = serializers.CharField()
    cash = serializers.DecimalField(max_digits=18, decimal_places=2)
    reserved = serializers.DecimalField(max_digits=18, decimal_places=2)
    buying_power = serializers.DecimalField(max_digits=18, decimal_places=2)
    long_market_value = serializers.DecimalField(max_digits=18, decimal_places=2)
    equity = serializers.DecimalField(max_digits=18, decimal_places=2)
    last_equity = serializers.DecimalField(max_digits=18, decimal_places=2)
    unrealized_pnl = serializers.DecimalField(max_digits=18, decimal_places=2)
    realized_pnl = serializers.DecimalField(max_digits=18, decimal_places=2)
    created_at = serializers.DateTimeField()


class PortfolioPointSerializer(FieldsBuiltOnce, serializers.Serializer):
    day = serializers.DateField()
    cash = serializers.DecimalField(max_digits=18, decimal_places=2)
    equity = serializers.DecimalField(max_digits=18, decimal_places=2)


class WatchlistSerializer(serializers.ModelSerializer):
    stocks = serializers.SerializerMethodField()

    class Meta:
        model = Watchlist
        fields = ["id", "name", "created_at", "stocks"]

    @extend_schema_field(StockSerializer(many=True))
    def get_stocks(self, watchlist: Watchlist) -> list[dict]:
        return StockSerializer([item.stock for item in watchlist.items.all()], many=True).data


class WatchlistWriteSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=80)
    symbols = serializers.ListField(child=serializers.CharField(max_length=12), required=False, max_length=200)


class WatchlistItemSerializer(StrictInputSerializer):
    symbol = serializers.CharField(max_length=12)


# --- views ---------------------------------------------------------------------------


class AccountView(GenericAPIView):
    serializer_class = AccountSerializer

    def get(self, request: Request) -> Response:
        account = services.account_open(user=request.user)
        summary = selectors.portfolio_summary(viewer=request.user)
        data = {"id": account.pk, "currency": account.currency, "created_at": account.created_at, **summary.__dict__}
        return Response(AccountSerializer(data).data)


class PortfolioHistoryView(GenericAPIView):
    serializer_class = PortfolioPointSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("days", {"type": "integer", "minimum": 1, "maximum": 366}, description="default 30")
        ],
        responses=PortfolioPointSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        days = parse_int(request.query_params.get("days", "30"), minimum=1, maximum=366)
        if days is None:
            raise ServiceError(INVALID_QUERY, "days must be a whole number from 1 to 366.")
        services.account_open(user=request.user)
        points = selectors.portfolio_history(viewer=request.user, days=days)
        return Response(PortfolioPointSerializer(points, many=True).data)


class ActivityListView(ListAPIView):
    serializer_class = ActivitySerializer
    pagination_class = NewestFirstPagination

    @extend_schema(parameters=[OpenApiParameter("kind", str, enum=LedgerKind.values)])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        kind = _query_choice(self.request, "kind", LedgerKind.values)
        return selectors.activity_list(viewer=self.request.user, kind=kind)


class OrderListView(ListAPIView):
    serializer_class = OrderSerializer
    pagination_class = NewestFirstPagination
    throttle_scope = "trading-orders"

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    def get_queryset(self):
        return selectors.order_list(
            viewer=self.request.user,
            status=_query_choice(self.request, "status", ORDER_STATUS_FILTERS, "all"),
            symbol=self.request.query_params.get("symbol"),
            side=_query_choice(self.request, "side", OrderSide.values),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=ORDER_STATUS_FILTERS),
            OpenApiParameter("symbol", str),
            OpenApiParameter("side", str, enum=OrderSide.values),
        ]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=OrderCreateSerializer, responses={201: OrderSerializer, 200: OrderSerializer})
    def post(self, request: Request) -> Response:
        form = OrderCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        order = services.order_place(user=request.user, **form.validated_data)
        replayed = getattr(order, "was_replayed", False)
        return Response(OrderSerializer(order).data, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)


class OrderByClientIdView(GenericAPIView):
    serializer_class = OrderSerializer

    @extend_schema(parameters=[OpenApiParameter("client_order_id", str, required=True)])
    def get(self, request: Request) -> Response:
        client_order_id = request.query_params.get("client_order_id", "")
        order = selectors.order_get_by_client_id(viewer=request.user, client_order_id=client_order_id)
        return Response(OrderSerializer(order).data)


class OrderDetailView(GenericAPIView):
    serializer_class = OrderSerializer

    def get(self, request: Request, order_id: int) -> Response:
        return Response(OrderSerializer(selectors.order_get(viewer=request.user, order_id=order_id)).data)

    @extend_schema(responses={200: OrderSerializer})
    def delete(self, request: Request, order_id: int) -> Response:
        """Cancel an open order; the answer is the canceled order (200, not 204: clients read its final state)."""
        order = services.order_cancel(user=request.user, order_id=order_id)
        return Response(OrderSerializer(order).data)


class PositionListView(ListAPIView):
    serializer_class = PositionSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.position_list(viewer=self.request.user)


class PositionDetailView(GenericAPIView):
    serializer_class = PositionSerializer

    def get(self, request: Request, symbol: str) -> Response:
        return Response(PositionSerializer(selectors.position_get(viewer=request.user, symbol=symbol)).data)


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
            interval=_query_choice(self.request, "interval", BarInterval.values, BarInterval.DAY),
            start=_query_time(self.request, "start"),
            end=_query_time(self.request, "end"),
        )


class QuoteView(GenericAPIView):
    serializer_class = QuoteSerializer

    def get(self, request: Request, symbol: str) -> Response:
        return Response(QuoteSerializer(selectors.quote_get(viewer=request.user, symbol=symbol)).data)


class WatchlistListView(ListAPIView):
    serializer_class = WatchlistSerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        return selectors.watchlist_list(viewer=self.request.user)

    @extend_schema(request=WatchlistWriteSerializer, responses={201: WatchlistSerializer})
    def post(self, request: Request) -> Response:
        form = WatchlistWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        watchlist = services.watchlist_create(
            owner=request.user, name=form.validated_data["name"], symbols=form.validated_data.get("symbols", [])
        )
        fresh = selectors.watchlist_get(viewer=request.user, watchlist_id=watchlist.pk)
        return Response(WatchlistSerializer(fresh).data, status=status.HTTP_201_CREATED)


class WatchlistDetailView(GenericAPIView):
    serializer_class = WatchlistSerializer

    def get(self, request: Request, watchlist_id: int) -> Response:
        return Response(
            WatchlistSerializer(selectors.watchlist_get(viewer=request.user, watchlist_id=watchlist_id)).data
        )

    @extend_schema(request=WatchlistWriteSerializer(partial=True))
    def patch(self, request: Request, watchlist_id: int) -> Response:
        watchlist = selectors.watchlist_get(viewer=request.user, watchlist_id=watchlist_id)
        form = WatchlistWriteSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        if "name" in form.validated_data:
            services.watchlist_rename(watchlist=watchlist, name=form.validated_data["name"])
        return Response(
            WatchlistSerializer(selectors.watchlist_get(viewer=request.user, watchlist_id=watchlist_id)).data
        )

    def delete(self, request: Request, watchlist_id: int) -> Response:
        services.watchlist_delete(watchlist=selectors.watchlist_get(viewer=request.user, watchlist_id=watchlist_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WatchlistItemListView(GenericAPIView):
    serializer_class = WatchlistSerializer

    @extend_schema(request=WatchlistItemSerializer, responses={201: WatchlistSerializer})
    def post(self, request: Request, watchlist_id: int) -> Response:
        watchlist = selectors.watchlist_get(viewer=request.user, watchlist_id=watchlist_id)
        form = WatchlistItemSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.watchlist_item_add(watchlist=watchlist, symbol=form.validated_data["symbol"])
        fresh = selectors.watchlist_get(viewer=request.user, watchlist_id=watchlist_id)
        return Response(WatchlistSerializer(fresh).data, status=status.HTTP_201_CREATED)


class WatchlistItemDetailView(GenericAPIView):
    serializer_class = WatchlistSerializer

    def delete(self, request: Request, watchlist_id: int, symbol: str) -> Response:
        watchlist = selectors.watchlist_get(viewer=request.user, watchlist_id=watchlist_id)
        services.watchlist_item_remove(watchlist=watchlist, symbol=symbol)
        return Response(status=status.HTTP_204_NO_CONTENT)
