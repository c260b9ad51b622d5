"""Reactions and shared-trade cards in templates, and the "Share" control other apps' pages use.

The trading pages never import chat: they load this library and place ``{% share_button %}``,
which renders a plain button that ``static/js/share.js`` turns into a picker of the user's
conversations (it posts to the chat API by URL).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from django import template
from django.urls import reverse

from chat.models import REACTIONS
from chat.selectors import reactions_data, shared_symbol

register = template.Library()


def _names(users: list[dict[str, Any]], count: int) -> str:
    names = [user["username"] for user in users]
    more = count - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


@register.inclusion_tag("chat/_reactions.html")
def message_reactions(message, viewer) -> dict[str, Any]:
    """The reaction bar of a message as the server first shows it; ``static/js/reactions.js``
    redraws it from ``data-reactions`` (the same data as the API's) and keeps it live."""
    summary = reactions_data(message)
    return {
        "message": message,
        "reactions_json": json.dumps(summary, ensure_ascii=False, separators=(",", ":")),
        "reactions": [
            {
                **reaction,
                "mine": any(user["id"] == viewer.pk for user in reaction["users"]),
                "title": f"{_names(reaction['users'], reaction['count'])} reacted with :{reaction['name']}:",
            }
            for reaction in summary
        ],
    }


@register.simple_tag
def reaction_choices_json() -> str:
    """The fixed list for the picker (``data-reaction-choices``), so the script has no copy of it."""
    return json.dumps([{"name": name, "emoji": emoji} for name, emoji in REACTIONS.items()], ensure_ascii=False)


@register.inclusion_tag("chat/_share_card.html")
def share_card(payload: dict[str, Any] | None, linked_symbols: Collection[str]) -> dict[str, Any]:
    """A shared fill or position; its live price only when the reader may see the stock."""
    symbol = shared_symbol(payload)
    if symbol is None:
        return {"share": None}
    kind = payload["kind"]
    return {"share": payload[kind], "kind": kind, "symbol": symbol, "live": symbol in linked_symbols}


@register.inclusion_tag("chat/_share_button.html", takes_context=True)
def share_button(context, kind: str, value: object, label: str = "Share") -> dict[str, Any]:
    """A "Share" button for a fill (``value``: its id) or a position (``value``: its symbol)."""
    return {
        "kind": kind,
        "value": value,
        "label": label,
        "conversations_url": reverse("api-chat-conversations"),
        "conversation_url": reverse("conversation", args=[0]),
        "csrf_token": context.get("csrf_token"),
    }
