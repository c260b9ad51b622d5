"""Formatting of chat data in templates."""

from __future__ import annotations

from django import template

from chat.selectors import UNREAD_COUNT_CAP

register = template.Library()


@register.filter
def unread_label(count: int) -> str:
    """The badge text: the count, or "99+" once it reaches the cap (counts stop there)."""
    return f"{UNREAD_COUNT_CAP - 1}+" if count >= UNREAD_COUNT_CAP else str(count)


@register.simple_tag
def unread_count_cap() -> int:
    """For the live badge script (``data-unread-cap``), which caps its own counting the same way."""
    return UNREAD_COUNT_CAP
