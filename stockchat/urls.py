from django.contrib import admin
from django.urls import include, path

from accounts import api as accounts_api
from stockchat import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("api/v1/me/", accounts_api.me, name="api-me"),
    path("admin/", admin.site.urls),
]
