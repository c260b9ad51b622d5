"""Demo people for `make run`: an admin and two traders with published passwords."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction


@dataclass(frozen=True)
class DemoPerson:
    username: str
    password: str
    email: str
    is_admin: bool = False


DEMO_ADMIN = DemoPerson("admin", "stockchat-admin", "admin@example.com", is_admin=True)
DEMO_TRADERS = (
    DemoPerson("alice", "stockchat-demo", "alice@example.com"),
    DemoPerson("bob", "stockchat-demo", "bob@example.com"),
)


@transaction.atomic
def load_demo(log) -> None:
    """Create the demo people that do not exist yet; existing ones are left as they are."""
    User = get_user_model()
    for person in (DEMO_ADMIN, *DEMO_TRADERS):
        if User.objects.filter(username=person.username).exists():
            continue
        # create_user and create_superuser onboard the new user.
        if person.is_admin:
            User.objects.create_superuser(person.username, person.email, person.password)
        else:
            User.objects.create_user(person.username, person.email, person.password)
        log(f"created user {person.username!r} (password {person.password!r})")
