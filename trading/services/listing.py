"""Writing the listing: which stocks a site trades and the companies behind them (imports)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from trading import visibility
from trading.formats.listing import ListingFileError, ListingRow, RowError
from trading.models import Company, Stock

COMPANY_FIELDS = ("sector", "description", "website")
STOCK_FIELDS = ("company", "exchange", "currency", "tradable")
# Rows per query: well under SQLite's and PostgreSQL's limits on query parameters.
BATCH_SIZE = 500


@dataclass(frozen=True)
class ListingImportResult:
    created: int
    updated: int
    unchanged: int


def _batches(values: Sequence, size: int = BATCH_SIZE) -> Iterable[Sequence]:
    for offset in range(0, len(values), size):
        yield values[offset : offset + size]


def listing_check(*, rows: Sequence[ListingRow]) -> list[RowError]:
    """Problems between rows: a symbol listed twice, one company described two ways."""
    errors = []
    symbols: dict[str, int] = {}
    companies: dict[str, ListingRow] = {}
    for row in rows:
        if row.symbol in symbols:
            errors.append(RowError(row.line, f"symbol {row.symbol} is already on line {symbols[row.symbol]}"))
            continue
        symbols[row.symbol] = row.line
        first = companies.setdefault(row.name, row)
        differing = [f for f in COMPANY_FIELDS if getattr(first, f) != getattr(row, f)]
        if differing:
            errors.append(
                RowError(row.line, f"company {row.name!r} has another {', '.join(differing)} on line {first.line}")
            )
    return errors


def listing_import(*, rows: Sequence[ListingRow], path: str = "") -> ListingImportResult:
    """Create or update the stocks and companies the rows describe, all or nothing.

    A stock is identified by its symbol and a company by its name, so importing
    the same file again changes nothing. Every column is set from the file: a
    stock's visibility becomes exactly the ``restricted`` groups (created when
    missing), empty for everyone. Stocks absent from the file are left alone,
    and so are operational flags (``halted``), quotes and bars.
    Raises ``ListingFileError`` (nothing written) when rows contradict each other.
    """
    errors = listing_check(rows=rows)
    if errors:
        raise ListingFileError(path, errors)
    with transaction.atomic():
        companies = _companies_upsert(rows)
        return _stocks_upsert(rows, companies)


def _companies_upsert(rows: Sequence[ListingRow]) -> dict[str, tuple[Company, bool]]:
    """Every company the rows name, by name, with whether this import created or changed it."""
    wanted = {row.name: row for row in rows}
    existing: dict[str, Company] = {}
    for names in _batches(sorted(wanted)):
        existing.update((c.name, c) for c in Company.objects.select_for_update().filter(name__in=names))
    new = [Company(name=name, **{f: getattr(row, f) for f in COMPANY_FIELDS}) for name, row in wanted.items()]
    new = [company for company in new if company.name not in existing]
    Company.objects.bulk_create(new, batch_size=BATCH_SIZE)
    changed = []
    for name, company in existing.items():
        row = wanted[name]
        if any(getattr(company, f) != getattr(row, f) for f in COMPANY_FIELDS):
            for f in COMPANY_FIELDS:
                setattr(company, f, getattr(row, f))
            changed.append(company)
    Company.objects.bulk_update(changed, COMPANY_FIELDS, batch_size=BATCH_SIZE)
    if new:
        # bulk_create does not return ids on every backend: read them back by name.
        for names in _batches([c.name for c in new]):
            existing.update((c.name, c) for c in Company.objects.filter(name__in=names))
    touched = {c.name for c in new} | {c.name for c in changed}
    return {name: (company, name in touched) for name, company in existing.items()}


def _stocks_upsert(rows: Sequence[ListingRow], companies: dict[str, tuple[Company, bool]]) -> ListingImportResult:
    symbols = [row.symbol for row in rows]
    existing: dict[str, Stock] = {}
    for batch in _batches(symbols):
        existing.update((s.symbol, s) for s in Stock.objects.select_for_update().filter(symbol__in=batch))
    created: list[Stock] = []
    changed: list[Stock] = []
    company_changed: set[str] = set()
    for row in rows:
        company, company_touched = companies[row.name]
        # company_id, not company: reading stock.company would be one query per stock.
        values = {
            "company_id": company.pk,
            "exchange": row.exchange,
            "currency": row.currency,
            "tradable": row.tradable,
        }
        stock = existing.get(row.symbol)
        if stock is None:
            created.append(Stock(symbol=row.symbol, **values))
            continue
        if any(getattr(stock, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(stock, f, v)
            changed.append(stock)
        elif company_touched:
            company_changed.add(row.symbol)
    Stock.objects.bulk_create(created, batch_size=BATCH_SIZE)
    Stock.objects.bulk_update(changed, STOCK_FIELDS, batch_size=BATCH_SIZE)
    for batch in _batches([s.symbol for s in created]):
        existing.update((s.symbol, s) for s in Stock.objects.filter(symbol__in=batch))
    visibility_changed = _visibility_set(rows, existing)
    # bulk_create sends no signal: the restricted flags and cached groups are updated here.
    visibility.stocks_visibility_changed(existing[symbol].pk for symbol in visibility_changed)
    updated = {s.symbol for s in changed} | company_changed | (visibility_changed - {s.symbol for s in created})
    unchanged = len(rows) - len(created) - len(updated)
    return ListingImportResult(created=len(created), updated=len(updated), unchanged=unchanged)


def _visibility_set(rows: Sequence[ListingRow], stocks: dict[str, Stock]) -> set[str]:
    """Make each stock's groups exactly the row's ``restricted``; the symbols whose groups changed."""
    through = Stock.visible_to_groups.through
    wanted = {row.symbol: set(row.restricted) for row in rows}
    names = set().union(*wanted.values()) if wanted else set()
    groups = {g.name: g for g in Group.objects.filter(name__in=names)}
    missing = [Group(name=name) for name in sorted(names - set(groups))]
    Group.objects.bulk_create(missing)
    if missing:
        groups = {g.name: g for g in Group.objects.filter(name__in=names)}
    by_id = {stock.pk: symbol for symbol, stock in stocks.items()}
    current: dict[str, set[str]] = {symbol: set() for symbol in wanted}
    for batch in _batches(list(by_id)):
        for stock_id, group_name in through.objects.filter(stock_id__in=batch).values_list("stock_id", "group__name"):
            current[by_id[stock_id]].add(group_name)
    differing = {symbol for symbol in wanted if wanted[symbol] != current[symbol]}
    stale = [stocks[symbol].pk for symbol in differing]
    for batch in _batches(stale):
        through.objects.filter(stock_id__in=batch).delete()
    through.objects.bulk_create(
        [
            through(stock_id=stocks[symbol].pk, group_id=groups[name].pk)
            for symbol in sorted(differing)
            for name in sorted(wanted[symbol])
        ],
        batch_size=BATCH_SIZE,
    )
    return differing
