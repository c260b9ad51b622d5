"""Reading a listing of stocks (the assets a site trades) from a CSV or JSON file.

CSV has a header row with these columns, in any order; only ``symbol`` and
``name`` are required, and a column not listed here is an error (a misspelt
column would otherwise be dropped without a word)::

    symbol,name,exchange,sector,description,website,currency,tradable,restricted
    ACME,Acme Anvil Works,XSIM,Industrials,Drop-forged anvils.,https://acme.example.com,USD,true,

JSON is an array of objects with the same keys; ``tradable`` may be a boolean
and ``restricted`` a list of group names.

``restricted`` names the groups whose members alone may see the stock,
separated by ``;`` (empty: everyone). ``tradable`` is true unless it says
``false``/``no``/``0``. ``exchange`` defaults to ``XSIM``, ``currency`` to ``USD``.

Every row is checked and every problem reported with its line, so that a file
can be fixed in one pass; reading never writes anything.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from core.inputs import InputError, has_forbidden_characters, loads_json
from trading.models import SYMBOL_PATTERN

COLUMNS = ("symbol", "name", "exchange", "sector", "description", "website", "currency", "tradable", "restricted")
REQUIRED_COLUMNS = ("symbol", "name")
# Longest accepted value per column, in characters (the model's limits; description and restricted are ours).
MAX_LENGTH = {
    "symbol": 10,
    "name": 200,
    "exchange": 20,
    "sector": 80,
    "description": 2000,
    "website": 200,
    "currency": 3,
    "restricted": 1000,
}
GROUP_NAME_MAX = 150
DEFAULT_EXCHANGE = "XSIM"
DEFAULT_CURRENCY = "USD"
PROGRESS_EVERY = 1000
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_LINE_BREAK_OR_TAB = re.compile(r"[\t\r\n]")
_SYMBOL = re.compile(SYMBOL_PATTERN)
_TRUE = {"", "true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
_website = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class ListingRow:
    symbol: str
    name: str
    exchange: str
    sector: str
    description: str
    website: str
    currency: str
    tradable: bool
    restricted: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class ListingFileError(ValueError):
    """A listing file that cannot be imported, with every problem found and its line."""

    def __init__(self, path: Path | str, errors: list[RowError]) -> None:
        self.path = str(path)
        self.errors = errors
        super().__init__(f"{path}: " + "; ".join(str(e) for e in errors[:5]) + ("; …" if len(errors) > 5 else ""))


def _text(record: dict[str, Any], column: str, *, multiline: bool = False) -> str:
    value = record.get(column)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{column} must be text")
    if has_forbidden_characters(value) or (not multiline and _LINE_BREAK_OR_TAB.search(value)):
        raise ValueError(f"{column} contains a control character")
    value = value.strip()
    if len(value) > MAX_LENGTH[column]:
        raise ValueError(f"{column} is {len(value)} characters long (at most {MAX_LENGTH[column]})")
    return value


def _tradable(record: dict[str, Any]) -> bool:
    value = record.get("tradable")
    if value is None or isinstance(value, bool):
        return True if value is None else value
    if not isinstance(value, str) or value.strip().lower() not in _TRUE | _FALSE:
        shown = value if isinstance(value, str) and len(value) <= 20 else type(value).__name__
        raise ValueError(f"tradable {shown!r} must be true or false")
    return value.strip().lower() in _TRUE


def _restricted(record: dict[str, Any]) -> tuple[str, ...]:
    value = record.get("restricted")
    if isinstance(value, list):
        if not all(isinstance(name, str) for name in value):
            raise ValueError("restricted must be group names")
        value = ";".join(value)
    names = _text({"restricted": value}, "restricted").split(";")
    groups = sorted({name.strip() for name in names if name.strip()})
    if any(len(name) > GROUP_NAME_MAX for name in groups):
        raise ValueError(f"restricted: a group name is longer than {GROUP_NAME_MAX} characters")
    return tuple(groups)


def parse_row(record: dict[str, Any], line: int) -> ListingRow:
    """One row, checked; ValueError with every problem of the row otherwise."""
    problems: list[str] = []

    def field(parse: Callable[[], Any], default: Any = None) -> Any:
        # None when the value was refused (the problem is recorded), so that checks below skip it.
        try:
            return parse()
        except ValueError as exc:
            problems.append(str(exc))
            return default

    symbol = field(lambda: _text(record, "symbol").upper())
    if symbol == "":
        problems.append("symbol is empty")
    elif symbol is not None and not _SYMBOL.match(symbol):
        problems.append(f"symbol {symbol!r} must be 1-10 capital letters, digits or dots, starting with a letter")
    name = field(lambda: _text(record, "name"))
    if name == "":
        problems.append("name is empty")
    exchange = field(lambda: _text(record, "exchange").upper()) or DEFAULT_EXCHANGE
    sector = field(lambda: _text(record, "sector"))
    description = field(lambda: _text(record, "description", multiline=True))
    website = field(lambda: _text(record, "website"))
    if website:
        try:
            _website(website)
        except ValidationError:
            problems.append("website must be an http:// or https:// URL")
    currency = field(lambda: _text(record, "currency").upper(), "USD") or DEFAULT_CURRENCY
    if not _CURRENCY.match(currency):
        problems.append(f"currency {currency!r} must be a 3-letter code such as USD")
    tradable = field(lambda: _tradable(record), True)
    restricted = field(lambda: _restricted(record), ())
    if problems:
        raise ValueError("; ".join(problems))
    return ListingRow(symbol, name, exchange, sector, description, website, currency, tradable, restricted, line)


def _csv_records(path: Path, errors: list[RowError]) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip().lower() for name in next(reader, [])]
            unknown = [name for name in header if name not in COLUMNS]
            missing = [name for name in REQUIRED_COLUMNS if name not in header]
            duplicated = sorted({name for name in header if header.count(name) > 1})
            if unknown or missing or duplicated:
                parts = []
                if missing:
                    parts.append(f"lacks column(s) {', '.join(missing)}")
                if unknown:
                    shown = ", ".join(repr(name[:40]) for name in unknown[:5])
                    parts.append(f"has unknown column(s) {shown} (known: {', '.join(COLUMNS)})")
                if duplicated:
                    parts.append(f"repeats column(s) {', '.join(duplicated)}")
                errors.append(RowError(1, "the header " + " and ".join(parts)))
                return
            while True:
                # The line a record starts on: a quoted field may span several.
                line = reader.line_num + 1
                values = next(reader, None)
                if values is None:
                    return
                if not any(value.strip() for value in values):
                    continue  # blank line
                if len(values) != len(header):
                    errors.append(RowError(line, f"{len(values)} fields; the header has {len(header)}"))
                    continue
                yield line, dict(zip(header, values, strict=True))
        except csv.Error as exc:
            errors.append(RowError(reader.line_num, f"not readable as CSV ({exc}); reading stopped here"))
        except UnicodeDecodeError:
            errors.append(RowError(reader.line_num + 1, "not UTF-8 text; reading stopped here"))


def _json_records(path: Path, errors: list[RowError]) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        errors.append(RowError(0, "not UTF-8 text"))
        return
    try:
        items = loads_json(text)
    except InputError as exc:
        errors.append(RowError(0, f"not valid JSON ({exc.detail})"))
        return
    if not isinstance(items, list):
        errors.append(RowError(1, "must be a JSON array of objects"))
        return
    for line, item in zip(_json_item_lines(text), items, strict=True):
        if not isinstance(item, dict):
            errors.append(RowError(line, "must be an object"))
            continue
        unknown = [key for key in item if key not in COLUMNS]
        if unknown:
            errors.append(RowError(line, f"unknown key(s) {', '.join(repr(key[:40]) for key in unknown[:5])}"))
            continue
        yield line, item


def _json_item_lines(text: str) -> Iterator[int]:
    """The line on which each item of the top-level array starts (the text is valid and depth-checked)."""
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    whitespace = re.compile(r"[\s,]*")
    while True:
        position = whitespace.match(text, position).end()
        if text[position] == "]":
            return
        yield text.count("\n", 0, position) + 1
        _, position = decoder.raw_decode(text, position)


def read_listing_file(
    path: Path | str, *, progress: Callable[[int], None] | None = None
) -> tuple[list[ListingRow], list[RowError]]:
    """Every good row of the file and every problem found; the caller imports only when there is no problem."""
    path = Path(path)
    errors: list[RowError] = []
    if not path.is_file():
        return [], [RowError(0, "no such file")]
    looks_like_json = path.suffix.lower() == ".json"
    if path.suffix.lower() not in {".csv", ".json"}:
        with path.open("rb") as handle:
            looks_like_json = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")
    records = _json_records(path, errors) if looks_like_json else _csv_records(path, errors)
    rows: list[ListingRow] = []
    for count, (line, record) in enumerate(records, start=1):
        try:
            rows.append(parse_row(record, line))
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    return rows, errors
