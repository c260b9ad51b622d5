from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db import transaction

from accounts import onboarding, services
from accounts.forms import AdminLoginForm
from accounts.models import ApiToken, Identity, User

# The admin's own sign-in form counts failed attempts like the site's.
admin.site.login_form = AdminLoginForm


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    can_delete = False
    readonly_fields = ("issuer", "subject", "created_at", "last_seen_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PasswordSetForm(AdminPasswordChangeForm):
    """An admin setting (or removing) someone's password counts as a reset: every socket of theirs closes."""

    def save(self, commit: bool = True):
        user = super().save(commit=commit)
        if commit:
            services.user_password_reset(user=user)
        return user


@admin.register(User)
class StockchatUserAdmin(UserAdmin):
    inlines = [IdentityInline]
    change_password_form = PasswordSetForm
    actions = ["deactivate"]

    def save_model(self, request, obj, form, change) -> None:
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if not change:
                onboarding.user_onboard(user=obj)
        if deactivating:
            services.user_deactivate(user=obj)

    @admin.action(description="Deactivate selected users (closes their sessions and sockets)")
    def deactivate(self, request, queryset) -> None:
        for user in queryset.filter(is_active=True):
            services.user_deactivate(user=user)
        self.message_user(request, "Deactivated.", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("user", "name", "prefix", "secret_hash", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # tokens are made by their owner, who alone sees the secret

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            services.api_token_revoke(user=token.user, prefix=token.prefix)
