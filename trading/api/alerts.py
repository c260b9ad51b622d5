"""Price alerts and notifications in the REST API (``/api/v1/alerts``, ``/api/v1/notifications``).

Views parse input, call one selector or service, and render; errors are rendered by
``core.api.exception_handler``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import NewestFirstPagination
from trading import selectors, services
from trading.models import AlertCondition, Notification, PriceAlert


class AlertSerializer(serializers.ModelSerializer):
    symbol = serializers.CharField(source="stock.symbol")
    threshold = serializers.DecimalField(max_digits=14, decimal_places=4)
    triggered_price = serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True)

    class Meta:
        model = PriceAlert
        fields = ["id", "symbol", "condition", "threshold", "armed", "created_at", "triggered_at", "triggered_price"]


class AlertWriteSerializer(serializers.Serializer):
    symbol = serializers.CharField(max_length=12)
    condition = serializers.ChoiceField(choices=AlertCondition.choices)
    threshold = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        help_text="A price for above/below; a percentage (either way) for day_move.",
    )


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "alert_id", "symbol", "text", "created_at", "read_at"]


class UnreadSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class AlertListView(ListAPIView):
    serializer_class = AlertSerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        return selectors.alert_list(viewer=self.request.user)

    @extend_schema(request=AlertWriteSerializer, responses={201: AlertSerializer})
    def post(self, request: Request) -> Response:
        form = AlertWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        alert = services.alert_create(user=request.user, **form.validated_data)
        return Response(AlertSerializer(alert).data, status=status.HTTP_201_CREATED)


class AlertDetailView(GenericAPIView):
    serializer_class = AlertSerializer

    def get(self, request: Request, alert_id: int) -> Response:
        return Response(AlertSerializer(selectors.alert_get(viewer=request.user, alert_id=alert_id)).data)

    def delete(self, request: Request, alert_id: int) -> Response:
        services.alert_delete(user=request.user, alert_id=alert_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertRearmView(GenericAPIView):
    serializer_class = AlertSerializer

    @extend_schema(request=None, responses={200: AlertSerializer})
    def post(self, request: Request, alert_id: int) -> Response:
        return Response(AlertSerializer(services.alert_rearm(user=request.user, alert_id=alert_id)).data)


class NotificationListView(ListAPIView):
    serializer_class = NotificationSerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        return selectors.notification_list(viewer=self.request.user)


class NotificationUnreadView(GenericAPIView):
    serializer_class = UnreadSerializer

    def get(self, request: Request) -> Response:
        return Response({"unread": selectors.notification_unread_count(viewer=request.user)})


class NotificationReadView(GenericAPIView):
    serializer_class = UnreadSerializer

    @extend_schema(request=None, responses={200: UnreadSerializer})
    def post(self, request: Request) -> Response:
        services.notifications_mark_read(user=request.user)
        return Response({"unread": 0})
