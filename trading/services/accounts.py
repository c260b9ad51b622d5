"""Opening accounts and moving cash. Every movement is one ledger entry."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from core.errors import ServiceError
from trading import events
from trading.models import Account, LedgerEntry, LedgerKind
from trading.services.common import clean_amount, lock_account

INSUFFICIENT_CASH = "insufficient_buying_power"


def ledger_post(*, account: Account, kind: str, amount: Decimal, memo: str = "", fill=None) -> LedgerEntry:
    """Move ``amount`` (signed) into the account's cash and record it.

    Caller holds the account lock inside a transaction; pending changes to
    ``account.reserved`` are saved with the cash. The cash >= 0
    constraint refuses an overdraft even if a caller's check is wrong.
    """
    account.cash += amount
    account.save(update_fields=["cash", "reserved"])
    return LedgerEntry.objects.create(
        account=account, kind=kind, amount=amount, balance_after=account.cash, memo=memo, fill=fill
    )


def account_open(*, user) -> Account:
    """The user's account, opened with ``STOCKCHAT_OPENING_CASH`` the first time. Safe to call again."""
    existing = Account.objects.filter(user=user).first()
    if existing is not None:
        return existing
    opening = Decimal(settings.STOCKCHAT_OPENING_CASH)
    try:
        with transaction.atomic():
            account = Account.objects.create(user=user)
            if opening > 0:
                ledger_post(account=account, kind=LedgerKind.OPENING, amount=opening, memo="Opening cash")
            events.account_changed(account)
    except IntegrityError:
        # Another request opened it first (two sign-ins at once).
        return Account.objects.get(user=user)
    return account


def account_credit(*, account: Account, amount: Decimal | str, memo: str = "") -> LedgerEntry:
    """Deposit paper cash (an admin action)."""
    amount = clean_amount(amount)
    with transaction.atomic():
        locked = lock_account(account.pk)
        entry = ledger_post(account=locked, kind=LedgerKind.DEPOSIT, amount=amount, memo=memo[:200])
        events.account_changed(locked)
    account.refresh_from_db(fields=["cash", "reserved"])
    return entry


def account_withdraw(*, account: Account, amount: Decimal | str, memo: str = "") -> LedgerEntry:
    """Take paper cash out; only what open buy orders do not hold back."""
    amount = clean_amount(amount)
    with transaction.atomic():
        locked = lock_account(account.pk)
        if locked.buying_power < amount:
            raise ServiceError(
                INSUFFICIENT_CASH, f"Only {locked.buying_power} can be withdrawn; open buy orders hold the rest."
            )
        entry = ledger_post(account=locked, kind=LedgerKind.WITHDRAWAL, amount=-amount, memo=memo[:200])
        events.account_changed(locked)
    account.refresh_from_db(fields=["cash", "reserved"])
    return entry
