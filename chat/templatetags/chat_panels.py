"""Chat panels that other apps' pages show: the recent conversations and a stock's room.

The pages that show them (the dashboard, a stock page) belong to ``trading``, which knows
nothing of chat: the template asks chat for the panel here, and chat decides what the
viewer may see through its selectors.
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString

from chat import selectors
from chat.views import pane_context

register = template.Library()

RECENT_CONVERSATIONS = 5
ROOM_MESSAGES = 30
# Where ``stock_room_panel`` leaves the room it found for ``stock_room_script`` later in the same page
# (the render context lives for one rendering of the page, across its blocks).
_ROOM_FOUND = "chat_panels.stock_room_panel"


@register.inclusion_tag("chat/_recent_conversations.html", takes_context=True)
def recent_conversations(context: template.Context) -> dict:
    """The viewer's most recently active conversations, with their unread counts."""
    user = context["user"]
    return {"user": user, "conversations": selectors.conversation_list(viewer=user)[:RECENT_CONVERSATIONS]}


def _room_of(context: template.Context, stock) -> object | None:
    found = context.render_context.get(_ROOM_FOUND)
    if found is None or found[0] != stock.pk:
        found = (stock.pk, selectors.stock_room_of(viewer=context["user"], stock_id=stock.pk))
        context.render_context[_ROOM_FOUND] = found
    return found[1]


@register.inclusion_tag("chat/_stock_room.html", takes_context=True)
def stock_room_panel(context: template.Context, stock) -> dict:
    """The stock's room: its latest messages and composer if the viewer joined it, else a join button."""
    user = context["user"]
    room = _room_of(context, stock)
    panel = {"user": user, "stock": stock, "room": room}
    if room is not None:
        panel.update(pane_context(user, room.pk, limit=ROOM_MESSAGES))
    return panel


@register.simple_tag(takes_context=True)
def stock_room_script(context: template.Context, stock) -> SafeString | str:
    """The script that brings the room to life, on a page whose viewer is in the room."""
    if _room_of(context, stock) is None:
        return ""
    return format_html('<script type="module" src="{}"></script>', static("js/chat.js"))
