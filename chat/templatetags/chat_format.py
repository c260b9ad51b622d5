"""Formatting of chat data in templates."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from chat.selectors import SYMBOL_MENTION, UNREAD_COUNT_CAP, USER_MENTION, reply_data

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
def message_body(
    body: str, symbols: Collection[str], mentions: Iterable[dict] = (), viewer_id: int | None = None
) -> SafeString:
    """The body as escaped text, with each ``$SYMBOL`` in ``symbols`` (the mentioned stocks the
    reader may see) a link to its stock page and each ``@name`` of ``mentions`` (the message's
    mentioned members) a highlighted span, marked for the reader when it names them; any other
    ``$WORD`` or ``@word`` stays text. ``static/js/chat.js`` renders live messages by the same rules."""
    mentioned = {person["username"].lower(): person["id"] for person in mentions or ()}
    tokens = []
    for match in SYMBOL_MENTION.finditer(body):
        symbol = match.group(1).rstrip(".")
        if symbol in symbols:
            tokens.append((match.start(), match.start() + 1 + len(symbol), "symbol", symbol))
    for match in USER_MENTION.finditer(body):
        name = match.group(1).rstrip(".")
        if name.lower() in mentioned:
            tokens.append((match.start(), match.start() + 1 + len(name), "user", name))
    parts: list[str] = []
    start = 0
    for begin, end, kind, text in sorted(tokens):
        if begin < start:
            continue  # overlaps the token before it
        parts.append(escape(body[start:begin]))
        if kind == "symbol":
            parts.append(format_html('<a href="{}">${}</a>', reverse("stock_detail", args=[text]), text))
        else:
            me = mentioned[text.lower()] == viewer_id
            parts.append(format_html('<span class="mention{}">@{}</span>', " mention-me" if me else "", text))
        start = end
    parts.append(escape(body[start:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped


# --- avatars, mentions ------------------------------------------------------------------------

AVATAR_COLOURS = 12
_NAME_PARTS = re.compile(r"[._+@-]+")


def initials(username: str) -> str:
    """Up to two letters: the first of each of the first two parts of the name ("ann.lee": "AL"),
    else its first two characters. ``static/js/chat.js`` (``initials``) does the same."""
    parts = [part for part in _NAME_PARTS.split(username) if part]
    if len(parts) >= 2:
        return (parts[0][0] + parts[1][0]).upper()
    return (parts[0][:2] if parts else "?").upper()


@register.simple_tag
def avatar(user) -> SafeString:
    """Initials on one of ``AVATAR_COLOURS`` colours picked by the user's id: the same person has
    the same colour on every page and in every browser. Decorative: the name is written beside it."""
    if user is None:
        return format_html('<span class="avatar avatar-none" aria-hidden="true">?</span>')
    return format_html(
        '<span class="avatar avatar-c{}" aria-hidden="true">{}</span>',
        user.pk % AVATAR_COLOURS,
        initials(user.get_username()),
    )


@register.filter
def mentions_user(message, user) -> bool:
    return any(person.get("id") == user.pk for person in message.mentions or ())


@register.simple_tag
def reply_quote(message) -> dict | None:
    """What the reply ``message`` shows of the message it answers (``chat.selectors.reply_data``)."""
    return reply_data(message)
