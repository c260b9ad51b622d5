"""Identity provider behaviour at run time: where to end the provider's own session on sign-out.

The provider's configuration (``OIDC_*`` settings) is read from the environment by
``core/identity.py`` when settings load.
"""

from __future__ import annotations

from urllib.parse import urlencode


def provider_logout_url(
    *, style: str, endpoint: str, client_id: str, return_to: str, id_token: str | None = None
) -> str | None:
    """Where to send the browser so the provider ends its own session too."""
    if not endpoint:
        return None
    if style == "cognito":
        return f"{endpoint}?{urlencode({'client_id': client_id, 'logout_uri': return_to})}"
    params = {"client_id": client_id, "post_logout_redirect_uri": return_to}
    if id_token:
        params["id_token_hint"] = id_token
    return f"{endpoint}?{urlencode(params)}"
