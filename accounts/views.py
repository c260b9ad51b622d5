from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import ApiTokenForm, LoginForm, SignUpForm
from accounts.middleware import PROVIDER_BACKEND
from accounts.models import ApiToken
from accounts.providers import provider_logout_url
from accounts.redirects import safe_next_url

NEW_TOKEN_SESSION_KEY = "accounts:new_api_token"  # noqa: S105 (a session key, not a secret)


def provider_enabled() -> bool:
    return settings.AUTH_PROVIDER != "local"


class SignInView(auth_views.LoginView):
    """Local sign-in form, or a hand-over to the identity provider when one is configured."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if provider_enabled() and not request.user.is_authenticated:
            target = reverse("oidc_authentication_init")
            next_url = safe_next_url(request, request.GET.get("next"))
            return HttpResponseRedirect(f"{target}?{urlencode({'next': next_url})}" if next_url else target)
        return super().dispatch(request, *args, **kwargs)

    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        if any(error.code == "rate_limited" for error in form.non_field_errors().as_data()):
            response.status_code = 429
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, which also closes the sockets of the user's other sessions."""

    def form_valid(self, form) -> HttpResponse:
        session_key_before = self.request.session.session_key
        response = super().form_valid(form)  # saves, then gives this session a new key
        services.user_password_changed(
            user=form.user,
            session_key_before=session_key_before,
            session_key_after=self.request.session.session_key,
        )
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset by e-mail link, which also closes every open socket of the user."""

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        services.user_password_reset(user=form.user)
        return response


@never_cache
@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    """A new local account; it lands on the dashboard, or on a ``next`` page of this site."""
    if provider_enabled():
        raise Http404("Accounts are made at the identity provider.")
    next_url = safe_next_url(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated:
        return redirect(next_url or "dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_create_local(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}.")
        return redirect(next_url or "dashboard")
    return render(request, "registration/signup.html", {"form": form, "next": next_url or ""})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Ends the Django session, its open sockets, and the provider's session when it signed in."""
    from_provider = request.session.get(BACKEND_SESSION_KEY) == PROVIDER_BACKEND
    id_token = request.session.get("oidc_id_token")
    session_key = request.session.session_key
    auth.logout(request)
    services.user_signed_out(session_key=session_key)
    return_to = request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL))
    if from_provider and provider_enabled():
        provider_url = provider_logout_url(
            style=settings.OIDC_LOGOUT_STYLE,
            endpoint=getattr(settings, "OIDC_OP_LOGOUT_ENDPOINT", ""),
            client_id=settings.OIDC_RP_CLIENT_ID,
            return_to=return_to,
            id_token=id_token,
        )
        if provider_url:
            return HttpResponseRedirect(provider_url)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's personal API tokens.

    Creating one redirects back here (a reload does not make a second); the new
    secret waits in the server-side session for that one page, never in a URL.
    """
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _, secret = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        request.session[NEW_TOKEN_SESSION_KEY] = secret
        return redirect("api_tokens")
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, None) if request.method == "GET" else None
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "accounts/api_tokens.html", {"form": form, "tokens": tokens, "new_token": new_token})


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    if services.api_token_revoke(user=request.user, prefix=prefix):
        messages.success(request, "Token revoked.")
    else:
        messages.error(request, "No such active token.")
    return redirect("api_tokens")


@login_required
def account_page(request: HttpRequest) -> HttpResponse:
    """Who the user is, and where to change sign-in details; the template asks trading for the
    paper-money panel (``trading_panels.portfolio_summary``)."""
    return render(request, "accounts/account.html", {"local_password": not provider_enabled()})
