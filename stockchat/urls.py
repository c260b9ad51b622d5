from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from stockchat import views
from stockchat.graphql.schema import schema as graphql_schema
from stockchat.graphql.views import GraphQLHTTPView

# Errors are JSON under /api/ (the API's promise), pages elsewhere.
handler400 = "stockchat.views.bad_request"
handler403 = "stockchat.views.permission_denied"
handler404 = "stockchat.views.page_not_found"
handler500 = "stockchat.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("api/v1/me/", accounts_api.me, name="api-me"),
    path("admin/", admin.site.urls),
    # --- Web UI pages ---
    path("", include("trading.urls")),
    path("", include("chat.urls")),
    # --- REST API (v1) ---
    path("api/v1/", include("trading.api_urls")),
    path("api/v1/", include("chat.api_urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's start-up script as a file (?script), its page styles from static/:
    # the Content-Security-Policy allows no inline script or style.
    path(
        "api/v1/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    # --- GraphQL (docs/graphql.md); subscriptions on the same path in stockchat/routing.py ---
    path("graphql/", GraphQLHTTPView.as_view(schema=graphql_schema), name="graphql"),
    # Last: any other path under /api/ is the API's JSON 404, with debug pages on too.
    re_path(r"^api/", views.api_not_found, name="api-not-found"),
]
