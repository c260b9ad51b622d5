"""Formatting of chat data in templates."""

from __future__ import annotations

from collections.abc import Collection

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from chat.selectors import SYMBOL_MENTION, UNREAD_COUNT_CAP

register = template.Library()


@register.filter
def unread_label(count: int) -> str:
    """The badge text: the count, or "99+" once it reaches the cap (counts stop there)."""
    return f"{UNREAD_COUNT_CAP - 1}+" if count >= UNREAD_COUNT_CAP else str(count)


@register.simple_tag
def unread_count_cap() -> int:
    """For the live badge script (``data-unread-cap``), which caps its own counting the same way."""
    return UNREAD_COUNT_CAP


@register.simple_tag
def message_body(body: str, symbols: Collection[str]) -> SafeString:
    """The body as escaped text, with each ``$SYMBOL`` in ``symbols`` (the mentioned stocks the
    reader may see) a link to its stock page; any other ``$WORD`` stays text. ``static/js/chat.js``
    links live messages by the same rule."""
    parts: list[str] = []
    start = 0
    for match in SYMBOL_MENTION.finditer(body):
        symbol = match.group(1).rstrip(".")
        if symbol not in symbols:
            continue
        end = match.start() + 1 + len(symbol)
        parts.append(escape(body[start : match.start()]))
        parts.append(format_html('<a href="{}">${}</a>', reverse("stock_detail", args=[symbol]), symbol))
        start = end
    parts.append(escape(body[start:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped
