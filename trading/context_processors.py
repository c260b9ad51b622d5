"""What every page's header shows: the signed-in user's unread notification count."""

from __future__ import annotations

from django.http import HttpRequest

from trading import selectors


def notifications(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: pages that never show the header (API, admin) never run the query.
    return {"unread_notifications": lambda: selectors.notification_unread_count(viewer=user)}
