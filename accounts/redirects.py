"""``next`` redirects that can only lead to a page of this site."""

from __future__ import annotations

from urllib.parse import unquote

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
    # Checked as given and decoded again, in case a proxy or a browser decodes
    # the path once more (/%2F/evil becoming //evil).
    layer = value
    for _ in range(3):
        if not _is_local_path(request, layer):
            return None
        decoded = unquote(layer)
        if decoded == layer:
            return value
        layer = decoded
    return None


def _is_local_path(request: HttpRequest, value: str) -> bool:
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return False
    if "\\" in value or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return False
    return url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=request.is_secure())
