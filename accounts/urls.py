from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.oidc import ProviderCallbackView, ProviderSignInView

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("signup/", views.sign_up, name="signup"),
    path("me/", views.account_page, name="account"),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/<str:prefix>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("oidc/authenticate/", ProviderSignInView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", ProviderCallbackView.as_view(), name="oidc_authentication_callback"),
    path("password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
