from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from accounts import ratelimit

ERROR_TOO_MANY_ATTEMPTS = "Too many failed sign-in attempts. Wait a few minutes and try again."
ERROR_EMAIL_TAKEN = "Another account already uses this email address. Sign in, or reset its password."


def sign_in_name(typed: str) -> str:
    """The user name to check a password against for what was typed in "Username or email".

    User names and email addresses are unique regardless of case at sign-up,
    so either, in any case, names the account; what matches no account, or
    (for data older than that rule) more than one, is left as typed.
    """
    users = get_user_model().objects
    if not typed or users.filter(username=typed).exists():
        return typed
    lookups = ["username__iexact", "email__iexact"] if "@" in typed else ["username__iexact"]
    for lookup in lookups:
        names = list(users.filter(**{lookup: typed}).values_list("username", flat=True)[:2])
        if len(names) == 1:
            return names[0]
    return typed


class RateLimitedLoginMixin:
    """Refuses to check a password once the user name or address has failed too often."""

    def clean(self):
        # Counted per account, whether it was named by user name or address, in any case.
        username = sign_in_name(self.cleaned_data.get("username") or "") or self.data.get("username", "") or ""
        if self.request is not None and ratelimit.login_blocked(self.request, username):
            raise ValidationError(ERROR_TOO_MANY_ATTEMPTS, code="rate_limited")
        if self.cleaned_data.get("username"):
            self.cleaned_data["username"] = username
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
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Username or email"


class AdminLoginForm(RateLimitedLoginMixin, AdminAuthenticationForm):
    pass


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="For password resets only.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise ValidationError(ERROR_EMAIL_TAKEN, code="email_taken")
        return email


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “price export script”.")
