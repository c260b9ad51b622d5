"""Orders in the REST API (``/api/v1/orders``): placed through ``trading.orders.OrderRequest``, rendered as
``trading.events.order_data``, the shape the ``order.updated`` frame carries too."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import DecimalStringField, FieldsBuiltOnce, NewestFirstPagination, ScopedThrottle, StrictInputSerializer
from trading import events, selectors, services
from trading.api.common import query_choice
from trading.models import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from trading.orders import MAX_ORDER_QUANTITY, OrderRequest

ORDER_STATUS_FILTERS = ("open", "closed", "all", *OrderStatus.values)


class OrderSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    # The fields describe the schema; the body is trading.events.order_data, the one shape of an
    # order that the order.updated frame carries too (a docstring here would land in the schema).

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

    def to_representation(self, order: Order) -> dict:
        return events.order_data(order, order.stock.symbol)


class OrderCreateSerializer(StrictInputSerializer):
    symbol = serializers.CharField(max_length=12)
    side = serializers.ChoiceField(choices=OrderSide.choices)
    type = serializers.ChoiceField(choices=OrderType.choices, default=OrderType.MARKET)
    time_in_force = serializers.ChoiceField(choices=TimeInForce.choices, default=TimeInForce.DAY)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_ORDER_QUANTITY)
    limit_price = DecimalStringField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    stop_price = DecimalStringField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    client_order_id = serializers.CharField(max_length=64, required=False, allow_blank=False)


class OrderListView(ListAPIView):
    serializer_class = OrderSerializer
    pagination_class = NewestFirstPagination
    throttle_scope = "trading-orders"

    def get_throttles(self):
        return [ScopedThrottle()] if self.request.method == "POST" else []

    def get_queryset(self):
        return selectors.order_list(
            viewer=self.request.user,
            status=query_choice(self.request, "status", ORDER_STATUS_FILTERS, "all"),
            symbol=self.request.query_params.get("symbol"),
            side=query_choice(self.request, "side", OrderSide.values),
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
        placed = services.order_submit(user=request.user, request=OrderRequest.parse(**form.validated_data))
        code = status.HTTP_200_OK if placed.replayed else status.HTTP_201_CREATED
        return Response(OrderSerializer(placed.order).data, status=code)


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
