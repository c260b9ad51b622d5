"""Trading pages: dashboard, stocks, a stock with its order ticket, portfolio.

Thin: every read goes through ``trading.selectors`` (which decides what the
viewer may see) and every write through ``trading.services``. The pages work
without JavaScript; ``static/js/`` only brings them up to date live.
"""

from __future__ import annotations

import csv
import uuid
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import NotFound, ServiceError
from core.input_middleware import form_text_checked
from core.money import to_cents
from core.views import service_errors
from trading import selectors, services
from trading.forms import OrderTicketForm
from trading.models import AlertCondition, BarInterval, Company, OrderSide
from trading.templatetags.trading_panels import summary_context
from trading.valuation import value_held

HISTORY_ROWS = 100
CONFIRMED_FILL = "trading.confirmed_fill"
EQUITY_PERIODS = [(30, "30 days"), (90, "90 days"), (365, "1 year")]
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    summary = summary_context(request.user)
    watchlists = list(selectors.watchlist_list(viewer=request.user))
    movers = selectors.top_movers(viewer=request.user)
    # Every stock on the page gets its sparkline from one query.
    stocks = [row["position"].stock for row in summary["holdings"]]
    stocks += [item.stock for watchlist in watchlists for item in watchlist.items.all()]
    stocks += movers["gainers"] + movers["losers"]
    closes = selectors.intraday_closes(stock_ids=list({stock.pk for stock in stocks}))
    for stock in stocks:
        stock.spark = closes.get(stock.pk, [])
    return render(
        request,
        "trading/dashboard.html",
        {
            "nav": "dashboard",
            **summary,
            "equity_periods": EQUITY_PERIODS,
            "watchlists": watchlists,
            "movers": movers,
        },
    )


@login_required
@require_GET
def stock_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:40]
    sector = request.GET.get("sector", "").strip()[:80]
    visible = selectors.stocks_visible(viewer=request.user)
    sectors = (
        Company.objects.filter(stocks__in=visible)
        .exclude(sector="")
        .values_list("sector", flat=True)
        .distinct()
        .order_by("sector")
    )
    return render(
        request,
        "trading/stock_list.html",
        {
            "nav": "stocks",
            "stocks": selectors.stock_list(viewer=request.user, search=search or None, sector=sector or None),
            "search": search,
            "sector": sector,
            "sectors": list(sectors),
        },
    )


def _confirmed_fill(request: HttpRequest, stock):
    """The fill an order placed from this stock's ticket just made, shown once with its Share control."""
    fill_id = request.session.pop(CONFIRMED_FILL, None)
    if not isinstance(fill_id, int):
        return None
    return selectors.fill_list(viewer=request.user).filter(pk=fill_id, stock=stock).first()


def _stock_page(request: HttpRequest, stock, *, form: OrderTicketForm, review: dict | None = None, status=200):
    try:
        position = selectors.position_get(viewer=request.user, symbol=stock.symbol)
    except NotFound:
        position = None
    holding = None if position is None else {"position": position, "value": value_held(position)}
    context = {
        "nav": "stocks",
        "stock": stock,
        "company": stock.company,
        "quote": getattr(stock, "quote", None),
        "form": form,
        "review": review,
        "position": position,
        "holding": holding,
        "open_orders": selectors.order_list(viewer=request.user, status="open", symbol=stock.symbol)[:HISTORY_ROWS],
        "intervals": BarInterval.choices,
        "alerts": selectors.alert_list(viewer=request.user, symbol=stock.symbol),
        "alert_conditions": AlertCondition.choices,
        "confirmed_fill": _confirmed_fill(request, stock),
        **_watchlist_choices(request.user, stock),
    }
    return render(request, "trading/stock_detail.html", context, status=status)


def _watchlist_choices(user, stock) -> dict:
    """The viewer's watchlists, each saying whether it holds ``stock``, and those it could go on."""
    choices = [
        {"watchlist": w, "has_stock": any(item.stock_id == stock.pk for item in w.items.all())}
        for w in selectors.watchlist_list(viewer=user)
    ]
    return {"watchlists": choices, "addable": [c["watchlist"] for c in choices if not c["has_stock"]]}


@login_required
@require_GET
@service_errors
def stock_detail(request: HttpRequest, symbol: str) -> HttpResponse:
    stock = selectors.stock_get(viewer=request.user, symbol=symbol)
    return _stock_page(request, stock, form=OrderTicketForm())


def _estimate(stock, data: dict) -> Decimal | None:
    price = data.get("limit_price") or data.get("stop_price")
    if price is None:
        quote = getattr(stock, "quote", None)
        price = quote.price if quote is not None else None
    return None if price is None else to_cents(price * data["quantity"])


@form_text_checked
@login_required
@require_http_methods(["POST"])
@service_errors
def order_ticket(request: HttpRequest, symbol: str) -> HttpResponse:
    """Two steps: ``review`` shows what would be placed, ``confirm`` places it.

    ``edit`` (from the review) brings back the ticket filled in as it was.
    """
    stock = selectors.stock_get(viewer=request.user, symbol=symbol)
    form = OrderTicketForm(request.POST, symbol=stock.symbol)
    if not form.is_valid():
        return _stock_page(request, stock, form=form, status=400)
    data = form.cleaned_data
    step = request.POST.get("step")
    if step == "edit":
        # A changed order is a new request: the next review gives it a new client_order_id.
        initial = {**data, "client_order_id": None}
        return _stock_page(request, stock, form=OrderTicketForm(initial=initial))
    try:
        if step != "confirm":
            # The same rules placing applies, so a doomed order is refused here, not after
            # "Place order". They are checked again then: things change in between.
            services.order_review(user=request.user, request=form.order_request)
            data["client_order_id"] = data.get("client_order_id") or uuid.uuid4().hex
            review = {"data": data, "estimate": _estimate(stock, data), "hidden": OrderTicketForm(initial=data)}
            return _stock_page(request, stock, form=form, review=review)
        order = services.order_submit(user=request.user, request=form.order_request).order
    except NotFound:
        raise  # the 404 page (service_errors)
    except ServiceError as exc:
        form.add_error(None, exc.detail)
        return _stock_page(request, stock, form=form, status=400)
    verb = "Bought" if order.side == OrderSide.BUY else "Sold"
    if order.status == "filled":
        messages.success(
            request, f"{verb} {order.filled_quantity} {stock.symbol} at ${order.filled_average_price:,.2f}."
        )
        # The confirmation on the next page offers to share this fill (once, like the message above).
        request.session[CONFIRMED_FILL] = order.fill.pk
    elif order.status == "new":
        messages.success(request, f"Order placed: {order.side} {order.quantity} {stock.symbol}, waiting to fill.")
    else:
        messages.error(request, f"Order {order.get_status_display().lower()}: {order.reason or 'no reason given'}")
    return redirect("stock_detail", symbol=stock.symbol)


def _order_back(request: HttpRequest, order_id: int, *, order=None) -> HttpResponse:
    if request.POST.get("next") == "portfolio":
        return redirect("portfolio")
    order = order or selectors.order_get(viewer=request.user, order_id=order_id)
    return redirect("stock_detail", symbol=order.stock.symbol)


@login_required
@require_POST
@service_errors(back=_order_back)
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_get(viewer=request.user, order_id=order_id)
    services.order_cancel(user=request.user, order_id=order.pk)
    messages.success(request, f"Order {order.pk} canceled.")
    return _order_back(request, order.pk, order=order)


@login_required
@require_GET
def portfolio(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "trading/portfolio.html",
        {
            "nav": "portfolio",
            **summary_context(request.user),
            "orders": selectors.order_list(viewer=request.user)[:HISTORY_ROWS],
            "activity": selectors.activity_list(viewer=request.user)[:HISTORY_ROWS],
            "equity_periods": EQUITY_PERIODS,
        },
    )


def _csv_cell(value: object) -> str:
    # A cell that starts like a formula is run by spreadsheet programs; quote it as text.
    text = "" if value is None else str(value)
    if text.startswith(CSV_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


@login_required
@require_GET
def portfolio_csv(request: HttpRequest) -> HttpResponse:
    """The cash activity (every ledger entry, with its trade) as CSV."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="stockchat-activity.csv"'
    writer = csv.writer(response)
    writer.writerow(["date", "kind", "amount", "balance_after", "symbol", "side", "quantity", "price", "memo"])
    for entry in selectors.activity_list(viewer=request.user).iterator():
        fill = entry.fill
        writer.writerow(
            [
                _csv_cell(entry.created_at.isoformat()),
                _csv_cell(entry.kind),
                _csv_cell(entry.amount),
                _csv_cell(entry.balance_after),
                _csv_cell(fill.stock.symbol if fill else ""),
                _csv_cell(fill.side if fill else ""),
                _csv_cell(fill.quantity if fill else ""),
                _csv_cell(fill.price if fill else ""),
                _csv_cell(entry.memo),
            ]
        )
    return response


# --- watchlists ------------------------------------------------------------------------------

DEFAULT_WATCHLIST = "My watchlist"


def _watchlist_back(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    # Only a symbol the viewer may see leads back to a stock page; anything else, the dashboard.
    symbol = request.POST.get("next_symbol", "")
    if symbol:
        try:
            return redirect("stock_detail", symbol=selectors.stock_get(viewer=request.user, symbol=symbol).symbol)
        except NotFound:
            pass
    return redirect("dashboard")


@login_required
@require_POST
@service_errors(back=_watchlist_back)
def watchlist_create(request: HttpRequest) -> HttpResponse:
    watchlist = services.watchlist_create(owner=request.user, name=request.POST.get("name", ""))
    messages.success(request, f"Watchlist {watchlist.name!r} created.")
    return _watchlist_back(request)


@login_required
@require_POST
@service_errors(back=_watchlist_back)
def watchlist_rename(request: HttpRequest, watchlist_id: int) -> HttpResponse:
    watchlist = selectors.watchlist_get(viewer=request.user, watchlist_id=watchlist_id)
    services.watchlist_rename(watchlist=watchlist, name=request.POST.get("name", ""))
    messages.success(request, f"Watchlist renamed to {watchlist.name!r}.")
    return _watchlist_back(request)


@login_required
@require_POST
@service_errors
def watchlist_delete(request: HttpRequest, watchlist_id: int) -> HttpResponse:
    watchlist = selectors.watchlist_get(viewer=request.user, watchlist_id=watchlist_id)
    services.watchlist_delete(watchlist=watchlist)
    messages.success(request, f"Watchlist {watchlist.name!r} deleted.")
    return _watchlist_back(request)


@login_required
@require_POST
@service_errors(back=_watchlist_back, missing=())
def watchlist_item_add(request: HttpRequest) -> HttpResponse:
    """Add a stock to one of the viewer's watchlists, or to a new "My watchlist" if there is none.

    The watchlist and the symbol come from the form: one that does not exist is a message, not a 404."""
    symbol = request.POST.get("symbol", "").strip()
    raw_id = request.POST.get("watchlist", "")
    if raw_id:
        watchlist = selectors.watchlist_get(viewer=request.user, watchlist_id=raw_id)
    else:
        watchlist = selectors.watchlist_list(viewer=request.user).first() or services.watchlist_create(
            owner=request.user, name=DEFAULT_WATCHLIST
        )
    item = services.watchlist_item_add(watchlist=watchlist, symbol=symbol)
    messages.success(request, f"{item.stock.symbol} is on {watchlist.name!r}.")
    return _watchlist_back(request)


@login_required
@require_POST
@service_errors(back=_watchlist_back, missing={selectors.WATCHLIST_NOT_FOUND})
def watchlist_item_remove(request: HttpRequest, watchlist_id: int, symbol: str) -> HttpResponse:
    watchlist = selectors.watchlist_get(viewer=request.user, watchlist_id=watchlist_id)
    services.watchlist_item_remove(watchlist=watchlist, symbol=symbol)
    messages.success(request, f"{symbol.upper()} removed from {watchlist.name!r}.")
    return _watchlist_back(request)


# --- price alerts and notifications ------------------------------------------------------------


def _stock_back(request: HttpRequest, symbol: str) -> HttpResponse:
    return redirect("stock_detail", symbol=selectors.stock_get(viewer=request.user, symbol=symbol).symbol)


@login_required
@require_POST
@service_errors(back=_stock_back)
def alert_create(request: HttpRequest, symbol: str) -> HttpResponse:
    stock = selectors.stock_get(viewer=request.user, symbol=symbol)
    alert = services.alert_create(
        user=request.user,
        symbol=stock.symbol,
        condition=request.POST.get("condition", ""),
        threshold=request.POST.get("threshold", "").strip(),
    )
    messages.success(
        request,
        f"Alert set: {stock.symbol} {alert.get_condition_display().lower()} {alert.threshold.normalize():f}.",
    )
    return redirect("stock_detail", symbol=stock.symbol)


def _alert_back(request: HttpRequest, alert) -> HttpResponse:
    if request.POST.get("next") == "stock":
        return redirect("stock_detail", symbol=alert.stock.symbol)
    return redirect("notifications")


@login_required
@require_POST
@service_errors
def alert_delete(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = selectors.alert_get(viewer=request.user, alert_id=alert_id)
    services.alert_delete(user=request.user, alert_id=alert.pk)
    messages.success(request, f"Alert on {alert.stock.symbol} deleted.")
    return _alert_back(request, alert)


@login_required
@require_POST
@service_errors
def alert_rearm(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = services.alert_rearm(user=request.user, alert_id=alert_id)
    messages.success(request, f"Alert on {alert.stock.symbol} armed again.")
    return _alert_back(request, alert)


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "trading/notifications.html",
        {
            "nav": "alerts",
            "notifications": selectors.notification_list(viewer=request.user)[:HISTORY_ROWS],
            "alerts": selectors.alert_list(viewer=request.user)[:HISTORY_ROWS],
        },
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_read(user=request.user)
    return redirect("notifications")
