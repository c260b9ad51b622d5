from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from trading.books import books_violations
from trading.models import (
    Account,
    AppendOnlyError,
    Company,
    Fill,
    LedgerEntry,
    Order,
    Position,
    PriceBar,
    Quote,
    Stock,
    Watchlist,
)
from trading.tests.conftest import buy, client_for, sell

pytestmark = pytest.mark.django_db

MODELS = [Company, Stock, PriceBar, Quote, Account, LedgerEntry, Position, Order, Fill, Watchlist]


@pytest.fixture
def books(trader, other, stock):
    buy(trader, stock, 10)
    sell(trader, stock, 4, type="limit", limit_price="500")
    buy(other, stock, 2, type="limit", limit_price="50")
    from trading import services

    services.watchlist_create(owner=trader, name="Mine", symbols=["ACME"])


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_changelists_and_search_work_for_staff(staff, books, model):
    client = client_for(staff)
    url = reverse(f"admin:trading_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "ACME"}).status_code == 200
    obj = model.objects.first()
    change = client.get(reverse(f"admin:trading_{model._meta.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200


@pytest.mark.parametrize("model", [LedgerEntry, Fill, Position, Account, Order], ids=lambda m: m.__name__)
def test_books_cannot_be_edited_in_the_admin(staff, books, model):
    client = client_for(staff)
    name = model._meta.model_name
    assert client.get(reverse(f"admin:trading_{name}_add")).status_code == 403
    obj = model.objects.first()
    assert client.post(reverse(f"admin:trading_{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("model", [Account, Order], ids=lambda m: m.__name__)
def test_posting_an_account_or_order_change_form_writes_nothing(staff, books, model):
    obj = model.objects.first()
    before = model.objects.filter(pk=obj.pk).values().get()
    url = reverse(f"admin:trading_{model._meta.model_name}_change", args=[obj.pk])
    response = client_for(staff).post(url, {"cash": "1", "reserved": "0", "status": "filled", "quantity": "999"})
    assert response.status_code == 403
    assert model.objects.filter(pk=obj.pk).values().get() == before


def test_non_staff_cannot_open_the_trading_admin(trader, books):
    response = client_for(trader).get(reverse("admin:trading_account_changelist"))
    assert response.status_code == 302


def test_admin_credit_action_posts_to_the_ledger(staff, trader, books):
    account = Account.objects.get(user=trader)
    before = account.cash
    client = client_for(staff)
    response = client.post(
        reverse("admin:trading_account_changelist"),
        {"action": "credit_cash", "_selected_action": [account.pk], "amount": "250.00", "index": 0},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.cash == before + Decimal("250.00")
    assert LedgerEntry.objects.filter(account=account, kind="deposit", amount=Decimal("250.00")).exists()
    assert books_violations() == []


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("-5", "Amount must be positive."),
        ("0", "Amount must be positive."),
        ("0.001", "Amount may have at most 2 decimal places."),
        ("12.345", "Amount may have at most 2 decimal places."),
        ("1e20", "Amount must be at most $1,000,000,000.00."),
        ("lots", "Amount must be a number."),
    ],
)
def test_admin_credit_action_with_a_bad_amount_asks_again(staff, trader, amount, error):
    account = Account.objects.get(user=trader)
    before = account.cash
    client = client_for(staff)
    url = reverse("admin:trading_account_changelist")
    response = client.post(
        url, {"action": "credit_cash", "_selected_action": [account.pk], "amount": amount, "index": 0}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    assert "No action selected" not in html
    assert f'value="{amount}"' in html  # what was typed is kept
    assert f'name="_selected_action" value="{account.pk}"' in html
    account.refresh_from_db()
    assert account.cash == before
    # Corrected on the same page, it is credited.
    response = client.post(
        url, {"action": "credit_cash", "_selected_action": [account.pk], "amount": "12.34", "apply": "1"}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.cash == before + Decimal("12.34")
    assert "Credited $12.34 to 1 account(s)." in client.get(response["Location"]).content.decode()


def test_admin_credit_action_without_an_amount_asks_for_one(staff, trader):
    account = Account.objects.get(user=trader)
    response = client_for(staff).post(
        reverse("admin:trading_account_changelist"),
        {"action": "credit_cash", "_selected_action": [account.pk], "amount": "", "index": 0},
    )
    assert response.status_code == 200
    assert "Amount to credit" in response.content.decode()
    assert LedgerEntry.objects.filter(account=account, kind="deposit").count() == 0


def test_admin_halt_and_resume_actions(staff, stock):
    client = client_for(staff)
    url = reverse("admin:trading_stock_changelist")
    client.post(url, {"action": "halt_trading", "_selected_action": [stock.pk], "index": 0})
    assert Stock.objects.get(pk=stock.pk).halted
    client.post(url, {"action": "resume_trading", "_selected_action": [stock.pk], "index": 0})
    assert not Stock.objects.get(pk=stock.pk).halted


def test_admin_cancel_action_releases_reservations(staff, other, books):
    order = Order.objects.get(account__user=other, status="new")
    client_for(staff).post(
        reverse("admin:trading_order_changelist"),
        {"action": "cancel_orders", "_selected_action": [order.pk], "index": 0},
    )
    order.refresh_from_db()
    assert order.status == "canceled"
    assert "staff" in order.reason
    assert books_violations() == []


def test_ledger_and_fills_are_append_only(books):
    entry = LedgerEntry.objects.first()
    entry.memo = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        Fill.objects.first().delete()


def test_check_books_passes_on_balanced_books(books):
    out = StringIO()
    call_command("check_books", stdout=out)
    assert "balance" in out.getvalue()


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda: Account.objects.filter(user__username="trader").update(cash=Decimal("5")), "!= ledger sum"),
        (lambda: Position.objects.filter(quantity=10).update(quantity=11, reserved_quantity=4), "!= fills sum"),
        (lambda: Account.objects.filter(user__username="other").update(reserved=Decimal("1")), "open buy orders"),
        (lambda: Position.objects.filter(quantity=10).update(reserved_quantity=1), "open sell orders"),
        (lambda: LedgerEntry.objects.filter(kind="buy").update(balance_after=Decimal("1")), "running sum"),
    ],
)
def test_check_books_names_each_violation_and_fails(trader, other, books, corrupt, message):
    corrupt()
    err = StringIO()
    with pytest.raises(CommandError, match="violation"):
        call_command("check_books", stderr=err)
    assert message in err.getvalue()


def test_check_books_adds_money_exactly(make_user):
    # SQLite's SUM() is binary floating point: these movements add up to 733.6699999999983 there.
    from trading import services

    user = make_user("pennies")
    account = services.account_open(user=user)
    for amount in ("-17708.81", "-18669.77", "5429.88", "-10190.65", "16437.45", "-9994.97", "18699.48"):
        if amount.startswith("-"):
            services.account_withdraw(account=account, amount=amount[1:])
        else:
            services.account_credit(account=account, amount=amount)
    services.account_withdraw(account=account, amount="10584.06")
    services.account_withdraw(account=account, amount="72684.88")
    account.refresh_from_db()
    assert account.cash == Decimal("733.67")
    assert books_violations() == []
