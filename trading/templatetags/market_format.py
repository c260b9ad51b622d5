"""Money, prices, percentages and times as people read them, with a class for up and down.

The same rules as ``static/js/format.js``, so a number looks the same before
and after a live update replaces it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from core.money import display_rounded, parse_decimal

register = template.Library()

_decimal = parse_decimal


def _grouped(amount: Decimal, places: int) -> str:
    return f"{abs(display_rounded(amount, places)):,.{places}f}"


@register.filter
def money(value: object) -> str:
    """``-1234.5`` → ``-$1,234.50``."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    sign = "-" if display_rounded(amount) < 0 else ""
    return f"{sign}${_grouped(amount, 2)}"


@register.filter
def signed_money(value: object) -> str:
    """A change: ``+$1.25`` / ``-$0.40`` / ``$0.00``."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    rounded = display_rounded(amount)
    sign = "+" if rounded > 0 else "-" if rounded < 0 else ""
    return f"{sign}${_grouped(amount, 2)}"


@register.filter
def price(value: object) -> str:
    """A share price, as money: two decimals (``12.3456`` → ``$12.35``), like every amount on a page."""
    return money(value)


@register.filter
def percent(value: object) -> str:
    """A change in percent: ``+1.25%`` / ``-0.40%``."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    rounded = display_rounded(amount)
    sign = "+" if rounded > 0 else "-" if rounded < 0 else ""
    return f"{sign}{abs(rounded):,.2f}%"


@register.filter
def updown(value: object) -> str:
    """The CSS class for a change: ``up``, ``down`` or ``flat``."""
    amount = _decimal(value)
    if amount is None or amount == 0:
        return "flat"
    return "up" if amount > 0 else "down"


@register.simple_tag
def change_percent(change: object, base: object) -> str:
    """``change`` as a percentage of ``base``."""
    c, b = _decimal(change), _decimal(base)
    if c is None or not b:
        return "—"
    return percent(c / b * 100)


@register.filter
def timestamp(value: datetime | None) -> SafeString | str:
    """A ``<time>`` with the moment in ISO 8601 and a text that says its zone: ``Nov 30, 06:22 UTC``.
    ``static/js/format.js`` (``localTime``) rewrites the text in the reader's own time zone, in the
    same form as the times it adds live, so no two times on a page read in different zones."""
    if value is None:
        return "—"
    moment = value.astimezone(UTC)
    return format_html(
        '<time datetime="{}">{} {}, {} UTC</time>',
        moment.isoformat(),
        moment.strftime("%b"),
        moment.day,
        moment.strftime("%H:%M"),
    )


_BREAK_AFTER = re.compile(r"(//|/(?!/))")
_BREAK_BEFORE = re.compile(r"(?<=\w)([.@?&=#])")


@register.filter
def breakable(value: object) -> SafeString:
    """A URL or e-mail address that may wrap only at its seams: after ``/``, before ``.``, ``@``,
    ``?``, ``&``, ``=`` and ``#`` (``<wbr>``), never in the middle of a word. With the class
    ``breakable`` (``overflow-wrap: break-word``) a part longer than the line still breaks."""
    # Seams are marked on the raw text and each part escaped, so no entity (&amp;) is split.
    raw = "" if value is None else str(value)
    marked = _BREAK_BEFORE.sub("\0\\1", _BREAK_AFTER.sub("\\1\0", raw))
    return mark_safe("<wbr>".join(conditional_escape(part) for part in marked.split("\0")))  # noqa: S308 - every part is escaped


SPARK_WIDTH, SPARK_HEIGHT = 100, 24


@register.simple_tag
def sparkline(closes: list, symbol: str, change: object = None) -> SafeString | str:
    """An SVG line of the day's recent closes (``static/js/sparkline.js`` extends it live); the
    class says whether the stock is up or down on the day."""
    values = [float(value) for value in closes or []]
    if len(values) < 2:
        values = values * 2 if values else []
    low, high = (min(values), max(values)) if values else (0.0, 0.0)
    spread = (high - low) or 1.0
    step = SPARK_WIDTH / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 1 - (v - low) / spread * (SPARK_HEIGHT - 2):.1f}" for i, v in enumerate(values)
    )
    return format_html(
        '<svg class="sparkline {}" viewBox="0 0 {} {}" width="{}" height="{}" aria-hidden="true" focusable="false" '
        'data-sparkline="{}" data-values="{}"><polyline points="{}"></polyline></svg>',
        updown(change),
        SPARK_WIDTH,
        SPARK_HEIGHT,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        symbol,
        ",".join(f"{v:g}" for v in values),
        points,
    )
