from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from accounts import ratelimit

ERROR_TOO_MANY_ATTEMPTS = "Too many failed sign-in attempts. Wait a few minutes and try again."


class RateLimitedLoginMixin:
    """Refuses to check a password once the user name or address has failed too often."""

    def clean(self):
        username = self.data.get("username", "") or ""
        if self.request is not None and ratelimit.login_blocked(self.request, username):
            raise ValidationError(ERROR_TOO_MANY_ATTEMPTS, code="rate_limited")
        try:
            cleaned = super().clean()
        except ValidationError:
            if self.request is not None:
                ratelimit.login_failed(self.request, username)
            raise
        if self.request is not None:
            ratelimit.login_succeeded(self.request, username)
        return cleaned


class LoginForm(RateLimitedLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(RateLimitedLoginMixin, AdminAuthenticationForm):
    pass


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="For password resets only.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “price export script”.")
