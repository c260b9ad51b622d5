"""Market data, paper-trading accounts, orders, fills and positions.

Money is ``Decimal``: cash and P&L in cents (2 places), prices in 1/10,000 of
the currency unit (4 places, enough for sub-dollar quotes), average cost with 6
places so repeated averaging does not drift. Quantities are whole shares
(``BigIntegerField``): a paper account mirrors a plain brokerage account, whole
shares keep "fills sum to positions" exact, and no rounding of share amounts
ever has to be explained to a user.

Every invariant that one row can express is a database constraint; the ones
that span rows (ledger sums to cash, fills sum to positions, reservations sum
to what the account holds back) are checked by ``manage.py check_books``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import FileExtensionValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from core.money import PERCENT_STEP

MONEY = {"max_digits": 18, "decimal_places": 2}
PRICE = {"max_digits": 14, "decimal_places": 4}
COST = {"max_digits": 18, "decimal_places": 6}
ZERO = Decimal("0")

SYMBOL_PATTERN = r"^[A-Z][A-Z0-9.]{0,9}$"


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an append-only row."""


class AppendOnlyModel(models.Model):
    """A row that is written once: the ledger and fills are history, not state."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only and cannot be deleted.")


class Company(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    sector = models.CharField(max_length=80, blank=True, db_index=True)
    website = models.URLField(blank=True)
    logo = models.FileField(
        upload_to="logos/",
        blank=True,
        # No SVG: an uploaded SVG can carry script that runs on this site's origin.
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "webp"])],
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name


class Stock(models.Model):
    symbol = models.CharField(
        max_length=10,
        unique=True,
        validators=[RegexValidator(SYMBOL_PATTERN, "Symbols are 1-10 capital letters, digits or dots.")],
    )
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="stocks")
    exchange = models.CharField(max_length=20, default="XSIM")
    currency = models.CharField(max_length=3, default="USD")
    tradable = models.BooleanField(default=True)
    halted = models.BooleanField(default=False)
    # Empty means everyone may see the stock; otherwise members of any listed group.
    visible_to_groups = models.ManyToManyField("auth.Group", blank=True, related_name="visible_stocks")
    # Whether visible_to_groups has any row, kept in step with it (trading/visibility.py), so that
    # looking up an unrestricted stock needs no subquery.
    restricted = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.CheckConstraint(condition=Q(symbol__regex=SYMBOL_PATTERN), name="stock_symbol_format"),
        ]

    def __str__(self) -> str:
        return self.symbol


class BarInterval(models.TextChoices):
    MINUTE = "1m", "1 minute"
    DAY = "1d", "1 day"


class PriceBar(models.Model):
    stock = models.ForeignKey(Stock, on_delete=models.CASCADE, related_name="bars")
    interval = models.CharField(max_length=2, choices=BarInterval.choices)
    start = models.DateTimeField()
    open = models.DecimalField(**PRICE)
    high = models.DecimalField(**PRICE)
    low = models.DecimalField(**PRICE)
    close = models.DecimalField(**PRICE)
    volume = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["stock", "interval", "start"]
        constraints = [
            models.UniqueConstraint(fields=["stock", "interval", "start"], name="pricebar_unique_start"),
            models.CheckConstraint(condition=Q(low__gt=0), name="pricebar_low_positive"),
            models.CheckConstraint(
                condition=Q(low__lte=F("open"), high__gte=F("open")) & Q(low__lte=F("close"), high__gte=F("close")),
                name="pricebar_ohlc_consistent",
            ),
            models.CheckConstraint(condition=Q(volume__gte=0), name="pricebar_volume_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.stock.symbol} {self.interval} {self.start:%Y-%m-%d %H:%M}"


class Quote(models.Model):
    """The latest price of a stock; ``previous_close`` gives the day change."""

    stock = models.OneToOneField(Stock, on_delete=models.CASCADE, primary_key=True, related_name="quote")
    price = models.DecimalField(**PRICE)
    previous_close = models.DecimalField(**PRICE)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0, previous_close__gt=0), name="quote_prices_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.stock.symbol} {self.price}"

    @property
    def change(self) -> Decimal:
        return self.price - self.previous_close

    @property
    def change_percent(self) -> Decimal:
        return (self.change / self.previous_close * 100).quantize(PERCENT_STEP)


class Account(models.Model):
    """One paper-trading account per user. ``cash`` is the sum of its ledger entries.

    ``reserved`` is the cash held back for open buy orders; buying power is
    ``cash - reserved``.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trading_account")
    currency = models.CharField(max_length=3, default="USD")
    cash = models.DecimalField(**MONEY, default=ZERO)
    reserved = models.DecimalField(**MONEY, default=ZERO)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(cash__gte=0), name="account_cash_nonnegative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="account_reserved_nonnegative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("cash")), name="account_reserved_within_cash"),
        ]

    def __str__(self) -> str:
        return f"account of {self.user}"

    @property
    def buying_power(self) -> Decimal:
        return self.cash - self.reserved


class LedgerKind(models.TextChoices):
    OPENING = "opening", "Opening cash"
    DEPOSIT = "deposit", "Deposit"
    WITHDRAWAL = "withdrawal", "Withdrawal"
    BUY = "buy", "Buy fill"
    SELL = "sell", "Sell fill"


class LedgerEntry(AppendOnlyModel):
    """A cash movement. Append-only: the account's cash is the sum of these."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=12, choices=LedgerKind.choices)
    amount = models.DecimalField(**MONEY)
    balance_after = models.DecimalField(**MONEY)
    fill = models.OneToOneField("Fill", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entry")
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_nonzero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_nonnegative"),
            models.CheckConstraint(
                condition=Q(kind__in=["opening", "deposit", "sell"], amount__gt=0)
                | Q(kind__in=["withdrawal", "buy"], amount__lt=0),
                name="ledger_amount_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["buy", "sell"], fill__isnull=False)
                | Q(kind__in=["opening", "deposit", "withdrawal"], fill__isnull=True),
                name="ledger_fill_iff_trade",
            ),
            models.UniqueConstraint(
                fields=["account"], condition=Q(kind="opening"), name="ledger_one_opening_per_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class Position(models.Model):
    """Shares of one stock in one account. Kept at zero quantity to remember realized P&L.

    ``reserved_quantity`` is held back for open sell orders, so two sells can
    never promise the same shares.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="positions")
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="positions")
    quantity = models.BigIntegerField(default=0)
    reserved_quantity = models.BigIntegerField(default=0)
    average_cost = models.DecimalField(**COST, default=ZERO)
    realized_pnl = models.DecimalField(**MONEY, default=ZERO)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["stock__symbol"]
        constraints = [
            models.UniqueConstraint(fields=["account", "stock"], name="position_one_per_stock"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="position_quantity_nonnegative"),
            models.CheckConstraint(
                condition=Q(reserved_quantity__gte=0, reserved_quantity__lte=F("quantity")),
                name="position_reserved_within_quantity",
            ),
            models.CheckConstraint(condition=Q(average_cost__gte=0), name="position_average_cost_nonnegative"),
            models.CheckConstraint(condition=Q(quantity__gt=0) | Q(average_cost=0), name="position_flat_has_no_cost"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.stock.symbol}"


class OrderSide(models.TextChoices):
    BUY = "buy", "Buy"
    SELL = "sell", "Sell"


class OrderType(models.TextChoices):
    MARKET = "market", "Market"
    LIMIT = "limit", "Limit"
    STOP = "stop", "Stop"
    STOP_LIMIT = "stop_limit", "Stop limit"


class TimeInForce(models.TextChoices):
    DAY = "day", "Day"
    GTC = "gtc", "Good till canceled"


class OrderStatus(models.TextChoices):
    NEW = "new", "New"
    FILLED = "filled", "Filled"
    CANCELED = "canceled", "Canceled"
    EXPIRED = "expired", "Expired"
    REJECTED = "rejected", "Rejected"


OPEN_STATUSES = (OrderStatus.NEW,)
PRICED_LIMIT = ("limit", "stop_limit")
PRICED_STOP = ("stop", "stop_limit")


class Order(models.Model):
    """An instruction to buy or sell. Only ``new`` orders are open; the others are final.

    An open buy order holds ``reserved_amount`` of the account's cash; an open
    sell order holds ``quantity`` of the position's shares.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="orders")
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="orders")
    client_order_id = models.CharField(max_length=64)
    side = models.CharField(max_length=4, choices=OrderSide.choices)
    type = models.CharField(max_length=10, choices=OrderType.choices)
    time_in_force = models.CharField(max_length=3, choices=TimeInForce.choices)
    quantity = models.BigIntegerField()
    limit_price = models.DecimalField(**PRICE, null=True, blank=True)
    stop_price = models.DecimalField(**PRICE, null=True, blank=True)
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.NEW)
    reserved_amount = models.DecimalField(**MONEY, default=ZERO)
    filled_quantity = models.BigIntegerField(default=0)
    filled_average_price = models.DecimalField(**PRICE, null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["stock", "status"], name="order_stock_status"),
            models.Index(fields=["account", "status"], name="order_account_status"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["account", "client_order_id"], name="order_client_id_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(
                condition=Q(type__in=PRICED_LIMIT, limit_price__isnull=False, limit_price__gt=0)
                | (~Q(type__in=PRICED_LIMIT) & Q(limit_price__isnull=True)),
                name="order_limit_price_iff_limit",
            ),
            models.CheckConstraint(
                condition=Q(type__in=PRICED_STOP, stop_price__isnull=False, stop_price__gt=0)
                | (~Q(type__in=PRICED_STOP) & Q(stop_price__isnull=True)),
                name="order_stop_price_iff_stop",
            ),
            models.CheckConstraint(condition=Q(reserved_amount__gte=0), name="order_reserved_nonnegative"),
            models.CheckConstraint(
                condition=Q(status="new", side="buy") | Q(reserved_amount=0), name="order_reserves_only_open_buys"
            ),
            models.CheckConstraint(
                condition=Q(
                    status="filled",
                    filled_quantity=F("quantity"),
                    filled_average_price__isnull=False,
                    filled_average_price__gt=0,
                )
                | (~Q(status="filled") & Q(filled_quantity=0)),
                name="order_filled_iff_complete",
            ),
            models.CheckConstraint(
                condition=Q(status="new", closed_at__isnull=True) | (~Q(status="new") & Q(closed_at__isnull=False)),
                name="order_closed_at_iff_final",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.quantity} {self.stock.symbol} {self.type} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Fill(AppendOnlyModel):
    """One execution of an order. Immutable: positions are the sum of fills."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="fill")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="fills")
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="fills")
    side = models.CharField(max_length=4, choices=OrderSide.choices)
    quantity = models.BigIntegerField()
    price = models.DecimalField(**PRICE)
    amount = models.DecimalField(**MONEY)
    realized_pnl = models.DecimalField(**MONEY, default=ZERO)
    executed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fill_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gt=0), name="fill_price_positive"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="fill_amount_positive"),
            models.CheckConstraint(condition=Q(side="sell") | Q(realized_pnl=0), name="fill_buy_realizes_nothing"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.quantity} {self.stock.symbol} @ {self.price}"


class Watchlist(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlists")
    name = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    stocks = models.ManyToManyField(Stock, through="WatchlistItem", related_name="+")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="watchlist_name_unique_per_owner"),
            models.CheckConstraint(condition=~Q(name=""), name="watchlist_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class WatchlistItem(models.Model):
    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="items")
    stock = models.ForeignKey(Stock, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["watchlist", "stock"], name="watchlist_item_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.watchlist_id}:{self.stock_id}"


class MarketFeedLease(models.Model):
    """Who runs the market feed: one row, renewed by the running feed on every tick."""

    name = models.CharField(max_length=40, primary_key=True)
    holder = models.CharField(max_length=200)
    expires_at = models.DateTimeField()
    renewed_at = models.DateTimeField()

    class Meta:
        verbose_name = "market feed lease"

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class AlertCondition(models.TextChoices):
    ABOVE = "above", "Price at or above"
    BELOW = "below", "Price at or below"
    DAY_MOVE = "day_move", "Day move of at least (%)"


class PriceAlert(models.Model):
    """ "Tell me when ACME goes above 120": armed until a tick meets it, then fired once.

    ``threshold`` is a price for ``above``/``below`` and a percentage (either way) for
    ``day_move``. A fired alert stays, disarmed, until its owner re-arms it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="price_alerts")
    stock = models.ForeignKey(Stock, on_delete=models.CASCADE, related_name="+")
    condition = models.CharField(max_length=10, choices=AlertCondition.choices)
    threshold = models.DecimalField(**PRICE)
    armed = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    triggered_price = models.DecimalField(**PRICE, null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The feed's one query per tick reads armed alerts of the ticked stocks only.
            models.Index(fields=["stock", "condition", "threshold"], condition=Q(armed=True), name="price_alert_armed"),
            models.Index(fields=["user", "-id"], name="price_alert_user"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gt=0), name="price_alert_threshold_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.stock_id} {self.condition} {self.threshold}"


class Notification(models.Model):
    """Something the user was told live (a fired alert), kept so the list and its unread count survive a reload."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    alert = models.ForeignKey(PriceAlert, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    symbol = models.CharField(max_length=12)
    text = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.text}"
