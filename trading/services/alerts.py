"""Price alerts: set, delete and re-arm them, and fire them from the feed's ticks.

``alerts_fire`` runs inside the transaction that records a tick's quotes: one query finds every
armed alert the tick meets (whatever their number, through the partial index on armed alerts),
one update disarms them, one insert writes their notifications, and their events go out after
the commit. An alert fires once; its owner re-arms it to hear from it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, Count, DecimalField, F, Q, Value, When
from django.utils import timezone

from core.errors import ServiceError
from core.money import PERCENT_STEP, as_decimal, clean_price, has_places
from trading import events, selectors
from trading.models import PRICE, AlertCondition, Notification, PriceAlert, Quote
from trading.templatetags.market_format import money, percent

MAX_ALERTS_PER_USER = 200
MAX_DAY_MOVE_PERCENT = Decimal("1000")
INVALID_ALERT = "invalid_alert"
TOO_MANY_ALERTS = "limit_reached"


def _clean_threshold(condition: str, threshold: object) -> Decimal:
    if condition != AlertCondition.DAY_MOVE:
        return clean_price(threshold, what="The alert price")
    value = as_decimal(threshold, code=INVALID_ALERT, what="The day move")
    if value <= 0 or value > MAX_DAY_MOVE_PERCENT:
        raise ServiceError(INVALID_ALERT, f"The day move must be above 0% and at most {MAX_DAY_MOVE_PERCENT}%.")
    if not has_places(value, PERCENT_STEP):
        raise ServiceError(INVALID_ALERT, "The day move may have at most 2 decimal places.")
    return value


def alert_create(*, user, symbol: str, condition: str, threshold: object) -> PriceAlert:
    """A new armed alert; a symbol the user may not see is not found."""
    if condition not in AlertCondition.values:
        raise ServiceError(INVALID_ALERT, f"condition must be one of {', '.join(AlertCondition.values)}.")
    cleaned = _clean_threshold(condition, threshold)
    stock = selectors.stock_get(viewer=user, symbol=symbol)
    with transaction.atomic():
        # Counted under the user's row lock, so two requests cannot both pass the limit.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if PriceAlert.objects.filter(user=user).count() >= MAX_ALERTS_PER_USER:
            raise ServiceError(TOO_MANY_ALERTS, f"An account can have at most {MAX_ALERTS_PER_USER} alerts.")
        return PriceAlert.objects.create(user=user, stock=stock, condition=condition, threshold=cleaned)


def alert_delete(*, user, alert_id: object) -> None:
    selectors.alert_get(viewer=user, alert_id=alert_id).delete()


def alert_rearm(*, user, alert_id: object) -> PriceAlert:
    """Arm a fired alert again: the next tick that meets it fires it once more."""
    alert = selectors.alert_get(viewer=user, alert_id=alert_id)
    PriceAlert.objects.filter(pk=alert.pk).update(armed=True, triggered_at=None, triggered_price=None)
    alert.refresh_from_db()
    return alert


def notifications_mark_read(*, user) -> int:
    """Mark all of the user's notifications read; how many were unread."""
    count = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    events.notifications_read(user_id=user.pk)
    return count


def _text(symbol: str, condition: str, threshold: Decimal, price: Decimal, move: Decimal) -> str:
    if condition == AlertCondition.ABOVE:
        return f"{symbol} is at {money(price)}, at or above your alert at {money(threshold)}."
    if condition == AlertCondition.BELOW:
        return f"{symbol} is at {money(price)}, at or below your alert at {money(threshold)}."
    return f"{symbol} moved {percent(move)} today ({money(price)}), past your {threshold.normalize():f}% alert."


def alerts_fire(*, quotes: Sequence[tuple[Quote, str]], at: datetime) -> list[Notification]:
    """Fire every armed alert the tick's ``(quote, symbol)`` pairs meet. Caller is in a transaction.

    A fixed number of queries whatever the number of alerts: one select (locking the alerts it
    fires, skipping any another transaction holds), one update, one insert, one unread count.
    Alerts of stocks their owner may no longer see never fire.
    """
    if not quotes:
        return []
    prices = {quote.stock_id: quote.price for quote, _ in quotes}
    moves = {
        quote.stock_id: (
            ((quote.price - quote.previous_close) / quote.previous_close * 100).quantize(PERCENT_STEP)
            if quote.previous_close
            else Decimal("0")
        )
        for quote, _ in quotes
    }
    symbols = {quote.stock_id: symbol for quote, symbol in quotes}
    number = DecimalField(**PRICE)
    tick_price = Case(*(When(stock_id=s, then=Value(p)) for s, p in prices.items()), output_field=number)
    tick_move = Case(*(When(stock_id=s, then=Value(abs(m))) for s, m in moves.items()), output_field=number)
    met = (
        Q(condition=AlertCondition.ABOVE, threshold__lte=F("tick_price"))
        | Q(condition=AlertCondition.BELOW, threshold__gte=F("tick_price"))
        | Q(condition=AlertCondition.DAY_MOVE, threshold__lte=F("tick_move"))
    )
    fired = list(
        PriceAlert.objects.filter(armed=True, stock_id__in=list(prices))
        .alias(tick_price=tick_price, tick_move=tick_move)
        .filter(met, selectors.stock_visible_to_owner())
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
        .values_list("pk", "user_id", "stock_id", "condition", "threshold")
    )
    if not fired:
        return []
    PriceAlert.objects.filter(pk__in=[row[0] for row in fired]).update(
        armed=False, triggered_at=at, triggered_price=tick_price
    )
    notifications = Notification.objects.bulk_create(
        Notification(
            user_id=user_id,
            alert_id=alert_id,
            symbol=symbols[stock_id],
            text=_text(symbols[stock_id], condition, threshold, prices[stock_id], moves[stock_id]),
            created_at=at,
        )
        for alert_id, user_id, stock_id, condition, threshold in fired
    )
    unread = dict(
        Notification.objects.filter(user_id__in={row[1] for row in fired}, read_at__isnull=True)
        .values("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    )
    events.alerts_fired([(notification, unread.get(notification.user_id, 0)) for notification in notifications])
    return notifications
