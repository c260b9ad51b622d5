"""Routes of the trading API, included under ``/api/v1/``."""

from django.urls import path

from core.inputs import register_id_converter
from trading.api import alerts, market, orders, portfolio, watchlists

register_id_converter()  # <id:...>: ASCII digits within bigint, anything else is a 404

urlpatterns = [
    path("account", portfolio.AccountView.as_view(), name="api-account"),
    path("account/activities", portfolio.ActivityListView.as_view(), name="api-activities"),
    path("account/portfolio/history", portfolio.PortfolioHistoryView.as_view(), name="api-portfolio-history"),
    path("orders", orders.OrderListView.as_view(), name="api-orders"),
    path("orders/by-client-order-id", orders.OrderByClientIdView.as_view(), name="api-order-by-client-id"),
    path("orders/<id:order_id>", orders.OrderDetailView.as_view(), name="api-order"),
    path("positions", portfolio.PositionListView.as_view(), name="api-positions"),
    path("positions/<str:symbol>", portfolio.PositionDetailView.as_view(), name="api-position"),
    path("assets", market.StockListView.as_view(), name="api-assets"),
    path("assets/<str:symbol>", market.StockDetailView.as_view(), name="api-asset"),
    path("assets/<str:symbol>/bars", market.BarListView.as_view(), name="api-bars"),
    path("assets/<str:symbol>/quote", market.QuoteView.as_view(), name="api-quote"),
    path("alerts", alerts.AlertListView.as_view(), name="api-alerts"),
    path("alerts/<id:alert_id>", alerts.AlertDetailView.as_view(), name="api-alert"),
    path("alerts/<id:alert_id>/rearm", alerts.AlertRearmView.as_view(), name="api-alert-rearm"),
    path("notifications", alerts.NotificationListView.as_view(), name="api-notifications"),
    path("notifications/unread", alerts.NotificationUnreadView.as_view(), name="api-notifications-unread"),
    path("notifications/read", alerts.NotificationReadView.as_view(), name="api-notifications-read"),
    path("watchlists", watchlists.WatchlistListView.as_view(), name="api-watchlists"),
    path("watchlists/<id:watchlist_id>", watchlists.WatchlistDetailView.as_view(), name="api-watchlist"),
    path("watchlists/<id:watchlist_id>/items", watchlists.WatchlistItemListView.as_view(), name="api-watchlist-items"),
    path(
        "watchlists/<id:watchlist_id>/items/<str:symbol>",
        watchlists.WatchlistItemDetailView.as_view(),
        name="api-watchlist-item",
    ),
]
