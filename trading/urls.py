"""Trading pages (HTML); the API is in ``trading.api_urls``."""

from django.urls import path

from trading import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("stocks/", views.stock_list, name="stock_list"),
    path("stocks/<str:symbol>/", views.stock_detail, name="stock_detail"),
    path("stocks/<str:symbol>/order/", views.order_ticket, name="order_ticket"),
    path("orders/<int:order_id>/cancel/", views.order_cancel, name="order_cancel"),
    path("stocks/<str:symbol>/alerts/", views.alert_create, name="alert_create"),
    path("alerts/<int:alert_id>/delete/", views.alert_delete, name="alert_delete"),
    path("alerts/<int:alert_id>/rearm/", views.alert_rearm, name="alert_rearm"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("portfolio/activity.csv", views.portfolio_csv, name="portfolio_csv"),
    path("watchlists/", views.watchlist_create, name="watchlist_create"),
    path("watchlists/items/", views.watchlist_item_add, name="watchlist_item_add"),
    path("watchlists/<int:watchlist_id>/rename/", views.watchlist_rename, name="watchlist_rename"),
    path("watchlists/<int:watchlist_id>/delete/", views.watchlist_delete, name="watchlist_delete"),
    path(
        "watchlists/<int:watchlist_id>/items/<str:symbol>/remove/",
        views.watchlist_item_remove,
        name="watchlist_item_remove",
    ),
]
