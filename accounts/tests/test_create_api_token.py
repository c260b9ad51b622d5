"""manage.py create_api_token: a token for a script, printed once, usable at once."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def create(*args: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue().strip()


def test_the_printed_token_signs_in_to_the_api(make_user):
    user = make_user("scripter")
    secret = create("scripter", "--name", "nightly report")
    token = ApiToken.objects.get(user=user)
    assert token.name == "nightly report"
    assert secret not in token.secret_hash
    response = Client().get("/api/v1/account", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200


def test_an_unknown_or_deactivated_user_gets_no_token(make_user):
    with pytest.raises(CommandError, match="No user named"):
        create("nobody")
    user = make_user("gone")
    user.is_active = False
    user.save()
    with pytest.raises(CommandError, match="deactivated"):
        create("gone")
    assert not ApiToken.objects.exists()
