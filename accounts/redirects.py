"""``next`` redirects that can only lead to a page of this site."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest, value: str | None) -> str | None:
    """``value`` if it is a path on this site, else None.

    Only absolute paths are accepted (``/trade/AAPL``), never a URL with a host,
    so disguises such as ``//evil``, ``/\\evil``, ``https:evil`` or a host that
    only looks like ours cannot lead a signed-in user to another site.
    """
    if not value or not isinstance(value, str) or len(value) > 2000:
        return None
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if any(ch in value for ch in "\\\r\n\t\x00") or any(ord(ch) < 32 for ch in value):
        return None
    if not url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    return value
