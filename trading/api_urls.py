"""Routes of the trading API, included under ``/api/v1/``."""

from django.urls import path

from core.inputs import register_id_converter
from trading import api, api_alerts

register_id_converter()  # <id:...>: ASCII digits within bigint, anything else is a 404

urlpatterns = [
    path("account", api.AccountView.as_view(), name="api-account"),
    path("account/activities", api.ActivityListView.as_view(), name="api-activities"),
    path("account/portfolio/history", api.PortfolioHistoryView.as_view(), name="api-portfolio-history"),
    path("orders", api.OrderListView.as_view(), name="api-orders"),
    path("orders/by-client-order-id", api.OrderByClientIdView.as_view(), name="api-order-by-client-id"),
    path("orders/<id:order_id>", api.OrderDetailView.as_view(), name="api-order"),
    path("positions", api.PositionListView.as_view(), name="api-positions"),
    path("positions/<str:symbol>", api.PositionDetailView.as_view(), name="api-position"),
    path("assets", api.StockListView.as_view(), name="api-assets"),
    path("assets/<str:symbol>", api.StockDetailView.as_view(), name="api-asset"),
    path("assets/<str:symbol>/bars", api.BarListView.as_view(), name="api-bars"),
    path("assets/<str:symbol>/quote", api.QuoteView.as_view(), name="api-quote"),
    path("alerts", api_alerts.AlertListView.as_view(), name="api-alerts"),
    path("alerts/<id:alert_id>", api_alerts.AlertDetailView.as_view(), name="api-alert"),
    path("alerts/<id:alert_id>/rearm", api_alerts.AlertRearmView.as_view(), name="api-alert-rearm"),
    path("notifications", api_alerts.NotificationListView.as_view(), name="api-notifications"),
    path("notifications/unread", api_alerts.NotificationUnreadView.as_view(), name="api-notifications-unread"),
    path("notifications/read", api_alerts.NotificationReadView.as_view(), name="api-notifications-read"),
    path("watchlists", api.WatchlistListView.as_view(), name="api-watchlists"),
    path("watchlists/<id:watchlist_id>", api.WatchlistDetailView.as_view(), name="api-watchlist"),
    path("watchlists/<id:watchlist_id>/items", api.WatchlistItemListView.as_view(), name="api-watchlist-items"),
    path(
        "watchlists/<id:watchlist_id>/items/<str:symbol>",
        api.WatchlistItemDetailView.as_view(),
        name="api-watchlist-item",
    ),
]
