"""Every trading read that depends on who is asking.

Who may see what is decided here and nowhere else: the API, pages and
WebSocket consumers all read through these functions.

- A stock restricted to groups exists only for members of one of them (and
  staff); for everyone else it is not found, never forbidden, so its existence
  does not leak.
- Accounts, orders, positions, activity and watchlists are their owner's only,
  staff included: staff look at other people's books in the admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models import DecimalField, Exists, ExpressionWrapper, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

from core.errors import NotFound
from core.money import to_cents
from trading.models import (
    Account,
    BarInterval,
    Fill,
    LedgerEntry,
    Notification,
    Order,
    OrderSide,
    OrderStatus,
    Position,
    PriceAlert,
    PriceBar,
    Quote,
    Stock,
    Watchlist,
    WatchlistItem,
)
from trading.valuation import value_account, value_held
from trading.visibility import stock_visible_to

__all__ = ["NotFound"]

STOCK_NOT_FOUND = "stock_not_found"
ORDER_NOT_FOUND = "order_not_found"
POSITION_NOT_FOUND = "position_not_found"
WATCHLIST_NOT_FOUND = "watchlist_not_found"
ACCOUNT_NOT_FOUND = "account_not_found"
ALERT_NOT_FOUND = "alert_not_found"


def _stock_not_found(symbol: object) -> NotFound:
    return NotFound(f"No stock with symbol {str(symbol)[:12]!r}.", code=STOCK_NOT_FOUND)


def stocks_visible(*, viewer) -> QuerySet[Stock]:
    """The stocks ``viewer`` may know about: unrestricted ones and those shared with their groups.

    ``Stock.restricted`` says which stocks have groups (trading/visibility.py keeps it in step), so
    only restricted stocks are matched against the viewer's groups.
    """
    stocks = Stock.objects.all()
    if viewer is not None and viewer.is_authenticated and viewer.is_staff:
        return stocks
    if viewer is None or not viewer.is_authenticated:
        return stocks.filter(restricted=False)
    through = Stock.visible_to_groups.through
    shared = Exists(through.objects.filter(stock_id=OuterRef("pk"), group__user=viewer))
    return stocks.filter(Q(restricted=False) | shared)


def stock_visible_to_owner(*, stock_field: str = "stock_id", user_field: str = "user_id") -> Q:
    """A filter on rows that pair a stock and a user (alerts): the user may still see the stock.

    The same rule as ``stocks_visible``, evaluated in the query for each row's own user, so one
    query can ask it of thousands of users at once.
    """
    through = Stock.visible_to_groups.through
    unrestricted = Q(**{f"{stock_field.removesuffix('_id')}__restricted": False})
    shared = Exists(through.objects.filter(stock_id=OuterRef(stock_field), group__user=OuterRef(user_field)))
    staff = Q(**{f"{user_field.removesuffix('_id')}__is_staff": True})
    return unrestricted | shared | staff


def stock_list(*, viewer, search: str | None = None, sector: str | None = None) -> QuerySet[Stock]:
    stocks = stocks_visible(viewer=viewer).select_related("company", "quote")
    if search:
        stocks = stocks.filter(Q(symbol__istartswith=search) | Q(company__name__icontains=search))
    if sector:
        stocks = stocks.filter(company__sector__iexact=sector)
    return stocks.order_by("symbol")


def stock_get(*, viewer, symbol: str) -> Stock:
    """The visible stock with ``symbol``; NotFound for an unknown or hidden one alike."""
    if not isinstance(symbol, str):
        raise _stock_not_found(symbol)
    # The row alone decides for an unrestricted stock; a restricted one is checked against the
    # groups cached for it (trading/visibility.py), not with subqueries planned on every call.
    stock = Stock.objects.select_related("company", "quote").filter(symbol=symbol.upper()).first()
    if stock is None or not stock_visible_to(stock, viewer):
        raise _stock_not_found(symbol)
    return stock


def quote_get(*, viewer, symbol: str) -> Quote:
    stock = stock_get(viewer=viewer, symbol=symbol)
    try:
        return stock.quote
    except Quote.DoesNotExist:
        raise NotFound(f"{stock.symbol} has no quote yet.", code="quote_not_found") from None


def bar_list(
    *,
    viewer,
    symbol: str,
    interval: str = BarInterval.DAY,
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet[PriceBar]:
    stock = stock_get(viewer=viewer, symbol=symbol)
    bars = PriceBar.objects.filter(stock=stock, interval=interval)
    if start is not None:
        bars = bars.filter(start__gte=start)
    if end is not None:
        bars = bars.filter(start__lt=end)
    return bars.order_by("start")


def account_get(*, viewer) -> Account:
    account = Account.objects.filter(user=viewer).first() if viewer.is_authenticated else None
    if account is None:
        raise NotFound("This user has no trading account.", code=ACCOUNT_NOT_FOUND)
    return account


def order_list(*, viewer, status: str = "all", symbol: str | None = None, side: str | None = None) -> QuerySet[Order]:
    """The viewer's orders. ``status`` is ``open``, ``closed``, ``all`` or one order status."""
    orders = Order.objects.filter(account__user=viewer).select_related("stock")
    if status == "open":
        orders = orders.filter(status=OrderStatus.NEW)
    elif status == "closed":
        orders = orders.exclude(status=OrderStatus.NEW)
    elif status in OrderStatus.values:
        orders = orders.filter(status=status)
    if symbol:
        orders = orders.filter(stock__symbol=symbol.upper())
    if side:
        orders = orders.filter(side=side)
    return orders.order_by("-id")


def order_get(*, viewer, order_id: object) -> Order:
    """The viewer's order; someone else's is not found."""
    try:
        order_id = int(order_id)
    except (TypeError, ValueError):
        raise NotFound("No such order.", code=ORDER_NOT_FOUND) from None
    order = Order.objects.filter(account__user=viewer, pk=order_id).select_related("stock").first()
    if order is None:
        raise NotFound("No such order.", code=ORDER_NOT_FOUND)
    return order


def order_get_by_client_id(*, viewer, client_order_id: str) -> Order:
    order = Order.objects.filter(account__user=viewer, client_order_id=client_order_id).select_related("stock").first()
    if order is None:
        raise NotFound("No order with that client_order_id.", code=ORDER_NOT_FOUND)
    return order


def position_list(*, viewer) -> QuerySet[Position]:
    """The viewer's open positions (quantity above zero), with their quotes.

    Owners always see what they hold, even if a stock was restricted after
    they bought it: hiding it would make their books look wrong.
    """
    # Today's buys of each position, for its day basis (trading.valuation): subqueries of the same
    # query, so the query count does not grow with the positions. "Today" is the quote's UTC day,
    # the day its previous_close belongs to.
    todays_buys = (
        Fill.objects.filter(
            account=OuterRef("account"),
            stock=OuterRef("stock"),
            side=OrderSide.BUY,
            executed_at__gte=TruncDay("stock__quote__updated_at", tzinfo=UTC),
        )
        .order_by()
        .values("stock")
    )
    amount = ExpressionWrapper(F("quantity") * F("price"), output_field=DecimalField(max_digits=30, decimal_places=4))
    return (
        Position.objects.filter(account__user=viewer, quantity__gt=0)
        .select_related("stock", "stock__quote")
        .annotate(
            bought_today=Subquery(todays_buys.annotate(total=Sum("quantity")).values("total")),
            bought_today_amount=Subquery(
                todays_buys.annotate(total=Sum(amount)).values("total"),
                output_field=DecimalField(max_digits=30, decimal_places=4),
            ),
        )
        .order_by("stock__symbol")
    )


def position_get(*, viewer, symbol: str) -> Position:
    position = position_list(viewer=viewer).filter(stock__symbol=str(symbol).upper()).first()
    if position is None:
        raise NotFound(f"No open position in {str(symbol)[:12]!r}.", code=POSITION_NOT_FOUND)
    return position


def activity_list(*, viewer, kind: str | None = None) -> QuerySet[LedgerEntry]:
    """The viewer's cash movements, newest first, each with its fill if it was a trade."""
    entries = LedgerEntry.objects.filter(account__user=viewer).select_related("fill", "fill__stock")
    if kind:
        entries = entries.filter(kind=kind)
    return entries.order_by("-id")


def fill_list(*, viewer) -> QuerySet[Fill]:
    """The viewer's own fills, newest first."""
    return Fill.objects.filter(account__user=viewer).select_related("stock").order_by("-id")


def watchlist_list(*, viewer) -> QuerySet[Watchlist]:
    """The viewer's watchlists; stocks the viewer can no longer see are left out of them."""
    visible_items = WatchlistItem.objects.filter(stock__in=stocks_visible(viewer=viewer)).select_related(
        "stock", "stock__company", "stock__quote"
    )
    return (
        Watchlist.objects.filter(owner=viewer)
        .prefetch_related(Prefetch("items", queryset=visible_items))
        .order_by("-id")
    )


def watchlist_get(*, viewer, watchlist_id: object) -> Watchlist:
    try:
        watchlist_id = int(watchlist_id)
    except (TypeError, ValueError):
        raise NotFound("No such watchlist.", code=WATCHLIST_NOT_FOUND) from None
    watchlist = watchlist_list(viewer=viewer).filter(pk=watchlist_id).first()
    if watchlist is None:
        raise NotFound("No such watchlist.", code=WATCHLIST_NOT_FOUND)
    return watchlist


SPARKLINE_MINUTES = 120
MOVERS = 3


def intraday_closes(*, stock_ids: list[int], now: datetime | None = None) -> dict[int, list[Decimal]]:
    """The last two hours of 1-minute closes of each stock, oldest first: one query for all of them.

    Callers pass stocks the viewer may see (positions, watchlist items, movers).
    """
    since = (now or timezone.now()) - timedelta(minutes=SPARKLINE_MINUTES)
    closes: dict[int, list[Decimal]] = {stock_id: [] for stock_id in stock_ids}
    rows = PriceBar.objects.filter(stock_id__in=stock_ids, interval=BarInterval.MINUTE, start__gte=since)
    for stock_id, close in rows.order_by("stock_id", "start").values_list("stock_id", "close"):
        closes[stock_id].append(close)
    return closes


def top_movers(*, viewer, count: int = MOVERS) -> dict[str, list[Stock]]:
    """The visible stocks that moved most today, up and down, by percentage of the previous close."""
    change = (F("quote__price") - F("quote__previous_close")) * 100 / F("quote__previous_close")
    quoted = (
        stocks_visible(viewer=viewer)
        .filter(quote__isnull=False, quote__previous_close__gt=0)
        .select_related("company", "quote")
        .annotate(move=ExpressionWrapper(change, output_field=DecimalField(max_digits=20, decimal_places=6)))
    )
    return {
        "gainers": list(quoted.filter(move__gt=0).order_by("-move", "symbol")[:count]),
        "losers": list(quoted.filter(move__lt=0).order_by("move", "symbol")[:count]),
    }


def alert_list(*, viewer, symbol: str | None = None) -> QuerySet[PriceAlert]:
    """The viewer's price alerts, newest first; alerts of stocks the viewer can no longer see are left out."""
    alerts = PriceAlert.objects.filter(user=viewer, stock__in=stocks_visible(viewer=viewer)).select_related("stock")
    if symbol:
        alerts = alerts.filter(stock__symbol=str(symbol).upper())
    return alerts.order_by("-id")


def alert_get(*, viewer, alert_id: object) -> PriceAlert:
    try:
        alert_id = int(alert_id)
    except (TypeError, ValueError):
        raise NotFound("No such alert.", code=ALERT_NOT_FOUND) from None
    alert = alert_list(viewer=viewer).filter(pk=alert_id).first()
    if alert is None:
        raise NotFound("No such alert.", code=ALERT_NOT_FOUND)
    return alert


def notification_list(*, viewer) -> QuerySet[Notification]:
    return Notification.objects.filter(user=viewer).order_by("-id")


def notification_unread_count(*, viewer) -> int:
    if not viewer.is_authenticated:
        return 0
    return Notification.objects.filter(user=viewer, read_at__isnull=True).count()


@dataclass(frozen=True)
class PortfolioSummary:
    cash: Decimal
    reserved: Decimal
    buying_power: Decimal
    long_market_value: Decimal
    equity: Decimal
    last_equity: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    day_change: Decimal


def position_market_value(position: Position) -> Decimal:
    return value_held(position).market_value


def position_valuations(*, viewer) -> list[dict]:
    """The viewer's open positions, each as ``{"position", "quote", "value"}`` with its ``PositionValuation``."""
    return [
        {"position": position, "quote": getattr(position.stock, "quote", None), "value": value_held(position)}
        for position in position_list(viewer=viewer)
    ]


def portfolio_summary(*, viewer) -> PortfolioSummary:
    """The account's figures at the current quotes, by ``trading.valuation``'s rules."""
    account = account_get(viewer=viewer)
    totals = value_account(cash=account.cash, positions=[value_held(p) for p in position_list(viewer=viewer)])
    realized = sum(Position.objects.filter(account=account).values_list("realized_pnl", flat=True), Decimal("0"))
    return PortfolioSummary(
        cash=account.cash,
        reserved=account.reserved,
        buying_power=account.buying_power,
        long_market_value=totals.long_market_value,
        equity=totals.equity,
        last_equity=totals.last_equity,
        unrealized_pnl=totals.unrealized_pnl,
        realized_pnl=realized,
        day_change=totals.day_change,
    )


@dataclass(frozen=True)
class PortfolioPoint:
    day: date
    cash: Decimal
    equity: Decimal


def portfolio_history(*, viewer, days: int = 30) -> list[PortfolioPoint]:
    """End-of-day cash and equity for the last ``days`` days, from the ledger, fills and daily bars.

    Computed from history rather than stored, so it can never disagree with
    the books. Three queries whatever the number of days or trades.
    """
    account = account_get(viewer=viewer)
    today = timezone.now().date()
    first = today - timedelta(days=days - 1)
    entries = list(account.ledger_entries.order_by("id").values_list("created_at", "balance_after"))
    fills = list(account.fills.order_by("id").values_list("executed_at", "stock_id", "side", "quantity"))
    stock_ids = {stock_id for _, stock_id, _, _ in fills}
    closes: dict[tuple[int, date], Decimal] = {}
    for stock_id, start, close in PriceBar.objects.filter(
        stock_id__in=stock_ids, interval=BarInterval.DAY, start__date__gte=first - timedelta(days=10)
    ).values_list("stock_id", "start", "close"):
        closes[(stock_id, start.date())] = close
    points: list[PortfolioPoint] = []
    cash = Decimal("0")
    holdings: dict[int, int] = {}
    last_close: dict[int, Decimal] = {}
    entry_index = fill_index = 0
    day = first - timedelta(days=10)
    while day <= today:
        while entry_index < len(entries) and entries[entry_index][0].date() <= day:
            cash = entries[entry_index][1]
            entry_index += 1
        while fill_index < len(fills) and fills[fill_index][0].date() <= day:
            _, stock_id, side, quantity = fills[fill_index]
            holdings[stock_id] = holdings.get(stock_id, 0) + (quantity if side == "buy" else -quantity)
            fill_index += 1
        for stock_id in holdings:
            if (stock_id, day) in closes:
                last_close[stock_id] = closes[(stock_id, day)]
        if day >= first and (entry_index or fill_index):
            # Each holding rounded to the cent as trading.valuation does, so today's point is the live equity.
            value = sum(
                (to_cents(qty * last_close.get(stock_id, Decimal("0"))) for stock_id, qty in holdings.items()),
                Decimal("0"),
            )
            points.append(PortfolioPoint(day=day, cash=cash, equity=cash + value))
        day += timedelta(days=1)
    return points
