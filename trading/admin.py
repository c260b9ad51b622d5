"""Admin for market data and the books.

Balances, positions, fills and the ledger are never edited here: the actions
call the same services as the API, so every change leaves a ledger entry.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from core.errors import ServiceError
from trading import services
from trading.models import (
    Account,
    Company,
    Fill,
    LedgerEntry,
    Order,
    OrderStatus,
    Position,
    PriceBar,
    Quote,
    Stock,
    Watchlist,
    WatchlistItem,
)
from trading.services.common import clean_amount
from trading.templatetags.market_format import money


class ReadOnlyAdmin(admin.ModelAdmin):
    """History and derived state: visible to staff, changed only by services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "sector", "website"]
    list_filter = ["sector"]
    search_fields = ["name", "description"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "website":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = ["symbol", "company", "exchange", "currency", "tradable", "halted", "restricted"]
    list_filter = ["halted", "tradable", "exchange", "company__sector", "visible_to_groups"]
    search_fields = ["symbol", "company__name"]
    list_select_related = ["company"]
    filter_horizontal = ["visible_to_groups"]
    readonly_fields = ["halted"]
    actions = ["halt_trading", "resume_trading"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("visible_to_groups")

    @admin.display(description="visible to")
    def restricted(self, stock: Stock) -> str:
        groups = [g.name for g in stock.visible_to_groups.all()]
        return ", ".join(groups) if groups else "everyone"

    @admin.action(description="Halt trading in the selected stocks")
    def halt_trading(self, request, queryset):
        for stock in queryset:
            services.stock_set_halted(stock=stock, halted=True)
        self.message_user(request, f"Halted {queryset.count()} stock(s).")

    @admin.action(description="Resume trading in the selected stocks")
    def resume_trading(self, request, queryset):
        for stock in queryset:
            services.stock_set_halted(stock=stock, halted=False)
        self.message_user(request, f"Resumed {queryset.count()} stock(s).")


@admin.register(PriceBar)
class PriceBarAdmin(ReadOnlyAdmin):
    list_display = ["stock", "interval", "start", "open", "high", "low", "close", "volume"]
    list_filter = ["interval"]
    search_fields = ["stock__symbol"]
    list_select_related = ["stock"]
    date_hierarchy = "start"
    show_full_result_count = False


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin):
    list_display = ["stock", "price", "previous_close", "change", "updated_at"]
    search_fields = ["stock__symbol"]
    list_select_related = ["stock"]


class CreditForm(ActionForm):
    # Free text here, checked by the action: Django answers an invalid action form with
    # only "No action selected." and drops what was typed.
    amount = forms.CharField(required=False, max_length=40)


class CreditAmountForm(forms.Form):
    """The amount to credit, checked by the same rules as ``services.account_credit``."""

    amount = forms.CharField(label="Amount to credit", max_length=40, help_text="In dollars, e.g. 2500.00.")

    def clean_amount(self):
        try:
            return clean_amount(self.cleaned_data["amount"].strip())
        except ServiceError as exc:
            raise ValidationError(exc.detail, code=exc.code) from None


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["user", "cash", "reserved", "buying_power", "created_at"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    action_form = CreditForm
    actions = ["credit_cash"]

    def has_change_permission(self, request, obj=None):
        # The changelist needs it for the credit action; a single account stays read-only.
        return obj is None and request.user.has_perm("trading.change_account")

    @admin.action(description="Credit cash (amount above) to the selected accounts", permissions=["change"])
    def credit_cash(self, request, queryset):
        """Credit at once when the amount is good; else a page that asks for it, with the error."""
        typed = request.POST.get("amount", "")
        form = CreditAmountForm({"amount": typed}) if typed or "apply" in request.POST else CreditAmountForm()
        if form.is_bound and form.is_valid():
            amount = form.cleaned_data["amount"]
            try:
                for account in queryset:
                    services.account_credit(account=account, amount=amount, memo=f"Credit by {request.user}")
            except ServiceError as exc:
                self.message_user(request, exc.detail, messages.ERROR)
                return None
            self.message_user(request, f"Credited {money(amount)} to {queryset.count()} account(s).")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Credit cash",
            "opts": self.model._meta,
            "form": form,
            "accounts": queryset.select_related("user")[:100],
            "count": queryset.count(),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/trading/account/credit_cash.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "kind", "amount", "balance_after", "memo", "created_at"]
    list_filter = ["kind"]
    search_fields = ["account__user__username", "memo"]
    list_select_related = ["account__user"]
    date_hierarchy = "created_at"


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = ["account", "stock", "quantity", "reserved_quantity", "average_cost", "realized_pnl"]
    search_fields = ["account__user__username", "stock__symbol"]
    list_select_related = ["account__user", "stock"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "stock", "side", "type", "quantity", "limit_price", "stop_price", "status"]
    list_filter = ["status", "side", "type", "time_in_force"]
    search_fields = ["account__user__username", "stock__symbol", "client_order_id"]
    list_select_related = ["account__user", "stock"]
    date_hierarchy = "submitted_at"
    actions = ["cancel_orders"]

    def has_change_permission(self, request, obj=None):
        # The changelist needs it for the cancel action; a single order stays read-only.
        return obj is None and request.user.has_perm("trading.change_order")

    @admin.action(description="Cancel the selected open orders", permissions=["change"])
    def cancel_orders(self, request, queryset):
        cancelled = 0
        for order in queryset.filter(status=OrderStatus.NEW).select_related("account__user"):
            try:
                services.order_cancel(user=order.account.user, order_id=order.pk, reason=f"By {request.user} (staff).")
            except ServiceError:
                continue
            cancelled += 1
        self.message_user(request, f"Canceled {cancelled} order(s).")


@admin.register(Fill)
class FillAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "stock", "side", "quantity", "price", "amount", "realized_pnl", "executed_at"]
    list_filter = ["side"]
    search_fields = ["account__user__username", "stock__symbol"]
    list_select_related = ["account__user", "stock"]
    date_hierarchy = "executed_at"


class WatchlistItemInline(admin.TabularInline):
    model = WatchlistItem
    extra = 0
    raw_id_fields = ["stock"]


@admin.register(Watchlist)
class WatchlistAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    inlines = [WatchlistItemInline]
