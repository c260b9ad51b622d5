"""Channel-layer group names shared by every app (ASCII, '.'-separated, under 100 characters)."""

import hashlib


def user_group(user_id: int) -> str:
    """Every socket of a user follows this group: their own orders, fills, account and chat events."""
    return f"user.{user_id}"


def api_token_group(token_id: int) -> str:
    """Every socket opened with one personal API token follows this group (closed when it is revoked)."""
    return f"api-token.{token_id}"


def session_group(session_key: str) -> str:
    """Every socket opened with one browser session follows this group (closed at sign-out)."""
    # Hashed: the session key is a credential and group names end up in Redis keys.
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]
