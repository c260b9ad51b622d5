"""Trading pages (HTML); the API is in ``trading.api_urls``."""

from django.urls import path

from core.inputs import register_id_converter
from trading import views

register_id_converter()  # <id:...>: ASCII digits within bigint, anything else is a 404

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("stocks/", views.stock_list, name="stock_list"),
    path("stocks/<str:symbol>/", views.stock_detail, name="stock_detail"),
    path("stocks/<str:symbol>/order/", views.order_ticket, name="order_ticket"),
    path("orders/<id:order_id>/cancel/", views.order_cancel, name="order_cancel"),
    path("stocks/<str:symbol>/alerts/", views.alert_create, name="alert_create"),
    path("alerts/<id:alert_id>/delete/", views.alert_delete, name="alert_delete"),
    path("alerts/<id:alert_id>/rearm/", views.alert_rearm, name="alert_rearm"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("portfolio/activity.csv", views.portfolio_csv, name="portfolio_csv"),
    path("watchlists/", views.watchlist_create, name="watchlist_create"),
    path("watchlists/items/", views.watchlist_item_add, name="watchlist_item_add"),
    path("watchlists/<id:watchlist_id>/rename/", views.watchlist_rename, name="watchlist_rename"),
    path("watchlists/<id:watchlist_id>/delete/", views.watchlist_delete, name="watchlist_delete"),
    path(
        "watchlists/<id:watchlist_id>/items/<str:symbol>/remove/",
        views.watchlist_item_remove,
        name="watchlist_item_remove",
    ),
]
