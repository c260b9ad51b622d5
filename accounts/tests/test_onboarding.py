"""Onboarding: the steps other apps register in accounts.onboarding run for every new user.

accounts sits below trading and cannot call it; trading registers "open a paper-money
account" from its AppConfig.ready(), and every way of creating a user runs it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import onboarding, services
from trading.models import Account, LedgerEntry
from trading.services import account_open

pytestmark = pytest.mark.django_db

ISSUER = "https://issuer.example"


@pytest.fixture
def steps(monkeypatch):
    """An empty registry for the test (trading's own step is put back afterwards)."""
    monkeypatch.setattr(onboarding, "_steps", [])
    return onboarding


def test_trading_registers_opening_an_account():
    assert account_open in onboarding.onboarding_steps()


def test_registered_steps_run_once_each_in_order_for_a_new_user(steps):
    ran = []
    first = steps.onboarding_step_register(lambda *, user: ran.append(("first", user.username)))
    steps.onboarding_step_register(lambda *, user: ran.append(("second", user.username)))
    steps.onboarding_step_register(first)  # ready() may run again: no second registration
    get_user_model().objects.create_user("olga", "olga@example.com", "pale-violet-42")
    assert ran == [("first", "olga"), ("second", "olga")]


def test_a_failing_step_rolls_the_new_user_back(steps):
    def refuse(*, user):
        raise RuntimeError("no account for you")

    steps.onboarding_step_register(refuse)
    with pytest.raises(RuntimeError):
        get_user_model().objects.create_user("pia", "pia@example.com", "pale-violet-42")
    with pytest.raises(RuntimeError):
        services.user_from_oidc_claims(issuer=ISSUER, claims={"sub": "s-9", "preferred_username": "pia"})
    assert not get_user_model().objects.exists()


def opening(user) -> list[tuple[str, Decimal]]:
    return [(entry.kind, entry.amount) for entry in LedgerEntry.objects.filter(account__user=user)]


def test_a_new_local_user_gets_a_trading_account(settings):
    settings.STOCKCHAT_OPENING_CASH = Decimal("5000.00")
    response = Client().post(
        "/accounts/signup/",
        {
            "username": "quinn",
            "email": "quinn@example.com",
            "password1": "pale-violet-42",
            "password2": "pale-violet-42",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="quinn")
    assert Account.objects.get(user=user).cash == Decimal("5000.00")
    assert opening(user) == [("opening", Decimal("5000.00"))]


def test_a_new_provider_user_gets_a_trading_account_once(settings):
    settings.STOCKCHAT_OPENING_CASH = Decimal("7000.00")
    user = services.user_from_oidc_claims(issuer=ISSUER, claims={"sub": "s-1", "preferred_username": "rosa"})
    again = services.user_from_oidc_claims(issuer=ISSUER, claims={"sub": "s-1", "preferred_username": "rosa"})
    assert again.pk == user.pk
    assert Account.objects.get(user=user).cash == Decimal("7000.00")
    assert opening(user) == [("opening", Decimal("7000.00"))]
