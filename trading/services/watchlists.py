"""Named lists of stocks per user."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from core.errors import ServiceError
from trading import selectors
from trading.models import Watchlist, WatchlistItem

MAX_WATCHLISTS = 50
MAX_ITEMS = 200
INVALID_NAME = "invalid_name"
NAME_TAKEN = "watchlist_name_taken"
TOO_MANY = "limit_reached"


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ServiceError(INVALID_NAME, "A watchlist needs a name.")
    name = name.strip()
    if len(name) > 80:
        raise ServiceError(INVALID_NAME, "Watchlist names are at most 80 characters.")
    return name


def watchlist_create(*, owner, name: str, symbols: Iterable[str] = ()) -> Watchlist:
    """A new watchlist for ``owner``; symbols the owner may not see are not found."""
    name = _clean_name(name)
    symbols = list(dict.fromkeys(symbols))
    if len(symbols) > MAX_ITEMS:
        raise ServiceError(TOO_MANY, f"A watchlist holds at most {MAX_ITEMS} stocks.")
    stocks = [selectors.stock_get(viewer=owner, symbol=symbol) for symbol in symbols]
    if Watchlist.objects.filter(owner=owner).count() >= MAX_WATCHLISTS:
        raise ServiceError(TOO_MANY, f"An account can have at most {MAX_WATCHLISTS} watchlists.")
    try:
        with transaction.atomic():
            watchlist = Watchlist.objects.create(owner=owner, name=name)
            WatchlistItem.objects.bulk_create([WatchlistItem(watchlist=watchlist, stock=stock) for stock in stocks])
    except IntegrityError:
        raise ServiceError(NAME_TAKEN, f"You already have a watchlist named {name!r}.", status=409) from None
    return watchlist


def watchlist_rename(*, watchlist: Watchlist, name: str) -> Watchlist:
    name = _clean_name(name)
    try:
        with transaction.atomic():
            Watchlist.objects.filter(pk=watchlist.pk).update(name=name)
    except IntegrityError:
        raise ServiceError(NAME_TAKEN, f"You already have a watchlist named {name!r}.", status=409) from None
    watchlist.name = name
    return watchlist


def watchlist_delete(*, watchlist: Watchlist) -> None:
    watchlist.delete()


def watchlist_item_add(*, watchlist: Watchlist, symbol: str) -> WatchlistItem:
    """Add a stock the owner may see; adding it twice keeps one entry."""
    stock = selectors.stock_get(viewer=watchlist.owner, symbol=symbol)
    with transaction.atomic():
        existing = WatchlistItem.objects.filter(watchlist=watchlist, stock=stock).first()
        if existing is not None:
            return existing
        if WatchlistItem.objects.filter(watchlist=watchlist).count() >= MAX_ITEMS:
            raise ServiceError(TOO_MANY, f"A watchlist holds at most {MAX_ITEMS} stocks.")
        return WatchlistItem.objects.create(watchlist=watchlist, stock=stock)


def watchlist_item_remove(*, watchlist: Watchlist, symbol: str) -> None:
    """Remove a stock; one that is not on the list is not found."""
    stock = selectors.stock_get(viewer=watchlist.owner, symbol=symbol)
    deleted, _ = WatchlistItem.objects.filter(watchlist=watchlist, stock=stock).delete()
    if not deleted:
        raise selectors.NotFound(f"{stock.symbol} is not on this watchlist.", code="not_on_watchlist")
