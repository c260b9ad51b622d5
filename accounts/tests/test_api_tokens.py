"""Personal API tokens: made on a page, shown once, stored hashed, revocable, used as Bearer."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC

import pytest
from django.test import Client

from accounts import services
from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def bearer(token: str):
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_token_made_on_the_page_is_shown_once_and_works(make_user):
    alice = make_user("alice")
    client = Client()
    client.force_login(alice)
    response = client.post("/accounts/tokens/", {"name": "export script"})
    # Post/redirect/get: reloading the page that shows the token makes no second one.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/tokens/"
    page = client.get(response["Location"])
    assert "no-store" in page["Cache-Control"]
    token = re.search(r'<code id="new-token">(sct_[^<]+)</code>', page.content.decode()).group(1)
    assert token.split("_", 2)[2] not in response["Location"]
    reloaded = client.get("/accounts/tokens/").content.decode()
    assert token not in reloaded
    assert "new-token" not in reloaded
    assert ApiToken.objects.filter(user=alice).count() == 1
    record = ApiToken.objects.get(user=alice)
    assert token.startswith(f"sct_{record.prefix}_")
    assert record.secret_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token.split("_", 2)[2] not in record.secret_hash

    me = bearer(token)
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["auth"] == "api_token"
    record.refresh_from_db()
    assert record.last_used_at is not None


def test_token_times_are_marked_up_for_the_readers_zone(make_user):
    alice = make_user("alice")
    record, token = services.api_token_create(user=alice, name="ci")
    bearer(token)
    record.refresh_from_db()
    client = Client()
    client.force_login(alice)
    page = client.get("/accounts/tokens/").content.decode()
    for moment in (record.created_at, record.last_used_at):
        assert f'<time datetime="{moment.astimezone(UTC).isoformat()}">' in page


def test_revoked_token_is_refused(make_user):
    alice = make_user("alice")
    _, token = services.api_token_create(user=alice, name="ci")
    client = Client()
    client.force_login(alice)
    prefix = token.split("_")[1]
    assert client.post(f"/accounts/tokens/{prefix}/revoke/").status_code == 302
    response = bearer(token)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_a_user_cannot_revoke_someone_elses_token(make_user):
    alice, mallory = make_user("alice"), make_user("mallory")
    _, token = services.api_token_create(user=alice, name="ci")
    client = Client()
    client.force_login(mallory)
    client.post(f"/accounts/tokens/{token.split('_')[1]}/revoke/")
    assert bearer(token).status_code == 200
    assert "ci" not in client.get("/accounts/tokens/").content.decode()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # right prefix, wrong secret
        lambda t: "sct_00000000_" + t.split("_", 2)[2],  # right secret, unknown prefix
        lambda t: t.split("_", 2)[0] + "_" + t.split("_", 2)[1],  # no secret
    ],
)
def test_wrong_tokens_are_refused(make_user, mangle):
    _, token = services.api_token_create(user=make_user("alice"), name="ci")
    response = bearer(mangle(token))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_tokens_of_a_deactivated_user_stop_working(make_user):
    alice = make_user("alice")
    _, token = services.api_token_create(user=alice, name="ci")
    services.user_deactivate(user=alice)
    assert bearer(token).status_code == 401


def test_token_pages_need_a_signed_in_user(db):
    assert Client().get("/accounts/tokens/").status_code == 302
    assert Client().post("/accounts/tokens/", {"name": "x"}).status_code == 302
    assert ApiToken.objects.count() == 0


def test_session_requests_to_the_api_still_need_csrf_for_writes(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("alice"))
    assert client.get("/api/v1/me/").json()["auth"] == "session"
    assert client.post("/api/v1/me/").status_code == 403
