"""First sign-ins of the same person racing each other, on PostgreSQL with real threads."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from accounts import services
from accounts.models import Identity

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"
THREADS = 4
ROUNDS = 5


def test_simultaneous_first_sign_ins_make_one_user(settings):
    settings.STOCKCHAT_STAFF_GROUPS = []
    settings.STOCKCHAT_SUPERUSER_GROUPS = []
    for round_number in range(ROUNDS):
        sub = f"racer-{round_number}"
        barrier = threading.Barrier(THREADS)
        users, errors = [], []

        def sign_in(sub=sub, barrier=barrier, users=users, errors=errors):
            try:
                barrier.wait(timeout=10)
                claims = {"sub": sub, "cognito:username": "racer", "cognito:groups": ["premium"]}
                users.append(services.user_from_oidc_claims(issuer=ISSUER, claims=claims).pk)
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                connection.close()

        threads = [threading.Thread(target=sign_in) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert len(set(users)) == 1, users
        assert Identity.objects.filter(subject=sub).count() == 1
    assert get_user_model().objects.count() == ROUNDS
