"""Watchlists in the REST API (``/api/v1/watchlists``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import NewestFirstPagination, StrictInputSerializer
from trading import selectors, services
from trading.api.market import StockSerializer
from trading.models import Watchlist


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
