"""Local accounts, the embedded default: sign-up, sign-in with limits, sign-out, password change and reset."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
import redis
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts import onboarding, services
from accounts.forms import ERROR_EMAIL_TAKEN, ERROR_TOO_MANY_ATTEMPTS
from trading.models import Account, LedgerEntry

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-9"


@pytest.fixture
def onboarded(monkeypatch):
    """Users that went through onboarding, in order."""
    seen = []
    real = onboarding.user_onboard

    def record(*, user):
        seen.append(user.username)
        real(user=user)

    monkeypatch.setattr(onboarding, "user_onboard", record)
    return seen


def test_sign_up_creates_an_onboarded_user_and_signs_in(onboarded):
    client = Client()
    response = client.post(
        "/accounts/signup/",
        {"username": "dora", "email": "dora@example.com", "password1": "pale-violet-42", "password2": "pale-violet-42"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    user = get_user_model().objects.get(username="dora")
    assert user.check_password("pale-violet-42")
    assert onboarded == ["dora"]
    assert client.get("/api/v1/me/").json()["username"] == "dora"


def test_sign_up_with_a_weak_password_or_taken_name_creates_nothing(make_user, onboarded):
    make_user("dora")
    onboarded.clear()
    client = Client()
    taken = client.post(
        "/accounts/signup/",
        {"username": "dora", "email": "d@example.com", "password1": "pale-violet-42", "password2": "pale-violet-42"},
    )
    weak = client.post(
        "/accounts/signup/", {"username": "ed", "email": "e@example.com", "password1": "123", "password2": "123"}
    )
    assert taken.status_code == weak.status_code == 200
    assert b"already exists" in taken.content
    assert b"too short" in weak.content
    assert onboarded == []
    assert get_user_model().objects.count() == 1


SIGN_UP = {
    "username": "dora",
    "email": "dora@example.com",
    "password1": "pale-violet-42",
    "password2": "pale-violet-42",
}


def test_sign_up_follows_a_local_next_from_the_form(db):
    client = Client()
    page = client.get("/accounts/signup/", {"next": "/trade/"}).content.decode()
    assert '<input type="hidden" name="next" value="/trade/">' in page
    response = client.post("/accounts/signup/", {**SIGN_UP, "next": "/trade/"})
    assert response.status_code == 302
    assert response["Location"] == "/trade/"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_sign_up_ignores_an_off_site_next(db, next_url):
    client = Client()
    assert "evil" not in client.get("/accounts/signup/", {"next": next_url}).content.decode()
    response = client.post("/accounts/signup/", {**SIGN_UP, "next": next_url})
    assert response["Location"] == reverse("dashboard")


def test_sign_up_refuses_an_email_in_use_in_any_case(make_user, onboarded):
    make_user("alice")  # alice@example.com
    onboarded.clear()
    response = Client().post("/accounts/signup/", {**SIGN_UP, "email": "Alice@EXAMPLE.com"})
    assert response.status_code == 200
    assert ERROR_EMAIL_TAKEN in response.content.decode()
    assert onboarded == []
    assert not get_user_model().objects.filter(username="dora").exists()


@pytest.mark.parametrize("typed", ["alice", "ALICE", "alice@example.com", "Alice@Example.COM"])
def test_sign_in_by_user_name_or_email_in_any_case(make_user, typed):
    make_user("alice")
    client = Client()
    response = client.post("/accounts/login/", {"username": typed, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/me/").json()["username"] == "alice"


def test_sign_in_by_an_ambiguous_address_is_refused(make_user):
    # Accounts from before addresses were unique regardless of case.
    make_user("alice")
    get_user_model().objects.create_user("alice2", "ALICE@example.com", PASSWORD)
    client = Client()
    response = client.post("/accounts/login/", {"username": "Alice@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_failed_sign_ins_by_name_and_address_count_together(make_user, settings):
    settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_USER = 3
    make_user("alice")
    client = Client()
    assert [failed_attempt(client, typed).status_code for typed in ["alice", "ALICE@example.com", "Alice"]] == [200] * 3
    blocked = client.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD})
    assert blocked.status_code == 429


def test_password_reset_finds_the_address_in_any_case(make_user):
    make_user("alice")
    assert Client().post("/accounts/password_reset/", {"email": "ALICE@Example.com"}).status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]


def test_sign_in_rotates_the_session_and_follows_a_local_next(make_user):
    make_user("alice")
    client = Client()
    client.get("/accounts/login/")
    before = client.cookies["sessionid"].value if "sessionid" in client.cookies else None
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD, "next": "/accounts/tokens/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/tokens/"
    assert client.cookies["sessionid"].value != before


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example", "/\\evil.example", "https:evil"])
def test_sign_in_ignores_an_off_site_next(make_user, next_url):
    make_user("alice")
    response = Client().post("/accounts/login/", {"username": "alice", "password": PASSWORD, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"  # where sign-in lands without a safe next


def failed_attempt(client: Client, username: str = "alice"):
    return client.post("/accounts/login/", {"username": username, "password": "wrong-password"})


def test_failed_sign_ins_are_limited_per_user_name(make_user, settings):
    settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_USER = 3
    make_user("alice")
    client = Client()
    assert [failed_attempt(client).status_code for _ in range(3)] == [200, 200, 200]
    blocked = client.post("/accounts/login/", {"username": "ALICE", "password": PASSWORD})
    assert blocked.status_code == 429
    assert ERROR_TOO_MANY_ATTEMPTS.encode() in blocked.content
    assert "_auth_user_id" not in client.session
    # Another user name from the same address is not blocked by alice's count.
    make_user("bob")
    assert client.post("/accounts/login/", {"username": "bob", "password": PASSWORD}).status_code == 302


def test_failing_from_another_address_does_not_lock_the_owner_out(make_user, settings):
    make_user("alice")
    attacker = Client(REMOTE_ADDR="198.51.100.66")
    for _ in range(settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_USER + 3):
        failed_attempt(attacker)
    # The attacker's address is done with alice, even with the right password ...
    assert attacker.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 429
    # ... while alice, from her own address, signs in.
    owner = Client(REMOTE_ADDR="203.0.113.10")
    assert owner.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 302


def test_guessing_from_many_addresses_is_bounded_and_the_owner_still_gets_in(make_user, settings):
    settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_USER = 3
    settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_ACCOUNT = 6
    make_user("alice")
    guessers = [Client(REMOTE_ADDR=f"198.51.100.{n}") for n in range(1, 5)]
    answers = [[failed_attempt(guesser).status_code for _ in range(3)] for guesser in guessers[:2]]
    assert answers == [[200, 200, 200]] * 2  # six failures on alice: she is under attack
    # Each further address gets one guess at alice and is then refused for her.
    for guesser in guessers[2:]:
        assert failed_attempt(guesser).status_code == 200
        assert guesser.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 429
    owner = Client(REMOTE_ADDR="203.0.113.10")
    assert owner.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 302


def test_signing_in_to_ones_own_account_does_not_reset_the_address_budget(make_user, settings):
    settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_ADDRESS = 4
    make_user("alice")
    make_user("mallory")
    client = Client()
    for n in range(3):
        failed_attempt(client, f"guess-{n}")
    assert client.post("/accounts/login/", {"username": "mallory", "password": PASSWORD}).status_code == 302
    client.post("/accounts/logout/")
    failed_attempt(client, "guess-3")
    assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 429


def test_failed_sign_ins_are_limited_per_address(make_user, settings):
    settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_ADDRESS = 4
    make_user("alice")
    client = Client()
    for n in range(4):
        failed_attempt(client, f"guess-{n}")
    assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 429
    other_address = Client(REMOTE_ADDR="10.0.0.7")
    assert other_address.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 302


def test_forged_forwarded_for_entries_do_not_get_around_the_address_limit(make_user, settings):
    # Behind the ALB: the socket peer is the balancer, the client is the entry it appended.
    settings.STOCKCHAT_TRUSTED_PROXY_HOPS = 1
    settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_ADDRESS = 4
    make_user("alice")
    behind_alb = Client(REMOTE_ADDR="10.0.0.2")
    for n in range(4):
        forged = {"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.50"}
        behind_alb.post("/accounts/login/", {"username": f"guess-{n}", "password": "wrong"}, headers=forged)
    forged = {"X-Forwarded-For": "192.0.2.99, 203.0.113.50"}
    response = behind_alb.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, headers=forged)
    assert response.status_code == 429
    # Another client behind the same balancer has its own count.
    other = {"X-Forwarded-For": "203.0.113.51"}
    response = behind_alb.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, headers=other)
    assert response.status_code == 302


def test_admin_sign_in_is_limited_too(make_user, settings):
    settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_USER = 2
    make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(2):
        client.post("/admin/login/", {"username": "root", "password": "nope"})
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert ERROR_TOO_MANY_ATTEMPTS.encode() in response.content
    assert "_auth_user_id" not in client.session


def test_sign_in_limits_hold_across_processes_with_redis(make_user, settings, redis_url):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": "t"}
    }
    settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_USER = 2
    make_user("alice")
    client = Client()
    failed_attempt(client)
    failed_attempt(client)
    # A second process has its own cache client but the same Redis.
    assert isinstance(caches["default"], RedisCache)
    assert redis.Redis.from_url(redis_url).keys("t:*"), "the attempt counters live in Redis"
    assert Client().post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 429


def test_sign_in_answers_503_rather_than_guessing_unlimited_while_redis_is_down(make_user, unreachable_redis):
    make_user("alice")
    client = Client(raise_request_exception=False)
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong-password"})
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "_auth_user_id" not in client.session


def test_sign_out_is_post_only_with_csrf(make_user):
    make_user("alice")
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username="alice"))
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 403
    client.get("/")
    response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/api/v1/me/").status_code == 401


def test_password_change_keeps_this_session_and_ends_others(make_user):
    user = make_user("alice")
    here, elsewhere = Client(), Client()
    here.force_login(user)
    elsewhere.force_login(user)
    response = here.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "fresh-meadow-77", "new_password2": "fresh-meadow-77"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("fresh-meadow-77")
    assert here.get("/api/v1/me/").status_code == 200
    assert elsewhere.get("/api/v1/me/").status_code == 401


def test_password_reset_by_email_link(make_user):
    user = make_user("alice")
    client = Client()
    assert client.post("/accounts/password_reset/", {"email": "alice@example.com"}).status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "fresh-meadow-77", "new_password2": "fresh-meadow-77"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("fresh-meadow-77")
    # The link works once.
    assert b"no longer valid" in client.get(link, follow=True).content


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/done/",
    ],
)
def test_account_pages_render_on_the_site_layout_without_inline_scripts(db, path):
    response = Client().get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "stock<span>chat</span>" in html
    assert "<script>" not in html
    assert "onclick=" not in html


def test_cookies_are_secure_and_http_only_when_debug_is_off(make_user):
    make_user("alice")
    client = Client()
    client.get("/accounts/login/")
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    csrf = client.get("/").cookies.get("csrftoken") or client.cookies["csrftoken"]
    assert csrf["secure"]
    assert csrf["samesite"] == "Lax"


def test_users_added_in_the_admin_are_onboarded(make_user, onboarded):
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    onboarded.clear()
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "ivan",
            "usable_password": "true",
            "password1": "pale-violet-42",
            "password2": "pale-violet-42",
            "identities-TOTAL_FORMS": "0",
            "identities-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert onboarded == ["ivan"]


def opening_entries(user) -> list[tuple[str, Decimal]]:
    return [(entry.kind, entry.amount) for entry in LedgerEntry.objects.filter(account__user=user)]


def test_createsuperuser_onboards_the_admin_once(onboarded, monkeypatch, settings):
    settings.STOCKCHAT_OPENING_CASH = Decimal("25000.00")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "pale-violet-42")
    call_command("createsuperuser", "--noinput", "--username=root", "--email=root@example.com", stdout=io.StringIO())
    root = get_user_model().objects.get(username="root")
    assert root.is_superuser
    assert root.check_password("pale-violet-42")
    assert onboarded == ["root"]
    assert root.trading_account.cash == Decimal("25000.00")
    assert opening_entries(root) == [("opening", Decimal("25000.00"))]


def test_create_user_onboards_once_in_the_users_transaction(onboarded, monkeypatch, settings):
    settings.STOCKCHAT_OPENING_CASH = Decimal("1000.00")
    User = get_user_model()
    made = User.objects.create_user("kim", "kim@example.com", PASSWORD)
    local = services.user_create_local(username="lee", email="lee@example.com", password=PASSWORD)
    assert onboarded == ["kim", "lee"]
    assert opening_entries(made) == opening_entries(local) == [("opening", Decimal("1000.00"))]

    def fail(*, user):
        raise RuntimeError("the trading account could not be opened")

    monkeypatch.setattr(onboarding, "user_onboard", fail)
    with pytest.raises(RuntimeError):
        User.objects.create_superuser("max", "max@example.com", PASSWORD)
    assert not User.objects.filter(username="max").exists()


@pytest.mark.django_db(transaction=True)
async def test_acreate_user_onboards_too(onboarded):
    user = await get_user_model().objects.acreate_user("nia", "nia@example.com", PASSWORD)
    assert onboarded == ["nia"]
    assert await Account.objects.filter(user=user).aexists()
