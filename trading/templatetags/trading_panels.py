"""Trading panels that other apps' pages show: the viewer's paper-money summary.

The account page belongs to ``accounts``, which sits below ``trading`` and cannot ask it
for anything: its template asks trading for the panel here instead.
"""

from __future__ import annotations

from django import template

from core.errors import NotFound
from trading import selectors

register = template.Library()


def summary_context(viewer) -> dict:
    """What ``trading/_summary.html`` needs: the viewer's summary, its day change and holdings
    (``None``, ``None`` and none for a user without an account)."""
    try:
        summary = selectors.portfolio_summary(viewer=viewer)
    except NotFound:
        return {"summary": None, "day_change": None, "holdings": []}
    holdings = selectors.position_valuations(viewer=viewer)
    return {"summary": summary, "day_change": summary.day_change, "holdings": holdings}


@register.inclusion_tag("trading/_summary.html", takes_context=True)
def portfolio_summary(context: template.Context) -> dict:
    """The viewer's equity, cash, buying power and P&L, kept live by ``static/js/live-money.js``."""
    return summary_context(context["user"])
