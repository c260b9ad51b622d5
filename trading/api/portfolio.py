"""The account, its positions, activity and history in the REST API (``/api/v1/account``, ``/api/v1/positions``)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import FieldsBuiltOnce, NewestFirstPagination
from core.errors import ServiceError
from core.inputs import parse_int
from trading import selectors, services
from trading.api.common import INVALID_QUERY, query_choice, quote_of
from trading.models import LedgerEntry, LedgerKind, Position
from trading.valuation import value_held


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
        quote = quote_of(position.stock)
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
        kind = query_choice(self.request, "kind", LedgerKind.values)
        return selectors.activity_list(viewer=self.request.user, kind=kind)


class PositionListView(ListAPIView):
    serializer_class = PositionSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.position_list(viewer=self.request.user)


class PositionDetailView(GenericAPIView):
    serializer_class = PositionSerializer

    def get(self, request: Request, symbol: str) -> Response:
        return Response(PositionSerializer(selectors.position_get(viewer=request.user, symbol=symbol)).data)
