"""Trading pages (HTML); the API is in ``trading.api_urls``."""

from django.urls import path

from trading import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("stocks/", views.stock_list, name="stock_list"),
    path("stocks/<str:symbol>/", views.stock_detail, name="stock_detail"),
    path("stocks/<str:symbol>/order/", views.order_ticket, name="order_ticket"),
    path("orders/<int:order_id>/cancel/", views.order_cancel, name="order_cancel"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("portfolio/activity.csv", views.portfolio_csv, name="portfolio_csv"),
]
