"""Channel-layer group names shared by every app (ASCII, '.'-separated, under 100 characters)."""


def user_group(user_id: int) -> str:
    """Every socket of a user follows this group: their own orders, fills, account and chat events."""
    return f"user.{user_id}"
