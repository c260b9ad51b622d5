"""Checks that the trading books balance, for every account at once.

What one row can break is refused by database constraints; this checks what
spans rows: cash is the sum of the ledger, each ledger entry's running balance
adds up, positions are the sum of their fills, and what accounts and positions
hold back equals what their open orders reserve. A fixed number of queries
whatever the number of accounts; money is summed in Python, in Decimal.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from trading.models import Account, Fill, LedgerEntry, Order, OrderSide, OrderStatus, Position

ZERO = Decimal("0")


def books_violations() -> list[str]:
    """One line per broken invariant; an empty list means the books balance."""
    problems: list[str] = []
    accounts = {a.pk: a for a in Account.objects.select_related("user")}

    # Sums of money are added up here, in Decimal: SQLite's SUM() works in binary
    # floating point and would report 2425.27000000001 for a balance of 2425.27.
    ledger: dict[int, Decimal] = defaultdict(lambda: ZERO)
    broken_chain: set[int] = set()
    for entry_id, account_id, amount, balance_after in LedgerEntry.objects.order_by("account", "id").values_list(
        "id", "account", "amount", "balance_after"
    ):
        ledger[account_id] += amount
        if ledger[account_id] != balance_after and account_id not in broken_chain:
            # One line per account: every later entry of the chain would differ too.
            broken_chain.add(account_id)
            problems.append(
                f"ledger entry {entry_id} of account {account_id}: balance_after {balance_after} != running sum "
                f"{ledger[account_id]}"
            )
    reserved: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for account_id, amount in Order.objects.filter(status=OrderStatus.NEW, side=OrderSide.BUY).values_list(
        "account", "reserved_amount"
    ):
        reserved[account_id] += amount
    for account_id, account in accounts.items():
        name = f"account {account_id} ({account.user})"
        if ledger.get(account_id, ZERO) != account.cash:
            problems.append(f"{name}: cash {account.cash} != ledger sum {ledger.get(account_id, ZERO)}")
        if reserved.get(account_id, ZERO) != account.reserved:
            problems.append(
                f"{name}: reserved {account.reserved} != open buy orders' reservations {reserved.get(account_id, ZERO)}"
            )
        if account.cash < 0 or account.reserved < 0 or account.reserved > account.cash:
            problems.append(f"{name}: cash {account.cash} / reserved {account.reserved} out of range")

    fills: dict[tuple[int, int], dict] = defaultdict(lambda: {"shares": 0, "realized": ZERO})
    for account_id, stock_id, side, quantity, realized in Fill.objects.values_list(
        "account", "stock", "side", "quantity", "realized_pnl"
    ):
        row = fills[(account_id, stock_id)]
        row["shares"] += quantity if side == OrderSide.BUY else -quantity
        row["realized"] += realized
    open_sells = dict(
        ((row["account"], row["stock"]), row["total"])
        for row in Order.objects.filter(status=OrderStatus.NEW, side=OrderSide.SELL)
        .values("account", "stock")
        .annotate(total=Sum("quantity"))
    )
    seen = set()
    for position in Position.objects.select_related("stock"):
        key = (position.account_id, position.stock_id)
        seen.add(key)
        row = fills.get(key, {"shares": 0, "realized": ZERO})
        name = f"position {position.stock.symbol} of account {position.account_id}"
        if row["shares"] != position.quantity:
            problems.append(f"{name}: quantity {position.quantity} != fills sum {row['shares']}")
        if row["realized"] != position.realized_pnl:
            problems.append(f"{name}: realized P&L {position.realized_pnl} != fills sum {row['realized']}")
        if open_sells.get(key, 0) != position.reserved_quantity:
            problems.append(
                f"{name}: reserved {position.reserved_quantity} shares != open sell orders' {open_sells.get(key, 0)}"
            )
        if position.quantity < 0 or not 0 <= position.reserved_quantity <= position.quantity:
            problems.append(
                f"{name}: quantity {position.quantity} / reserved {position.reserved_quantity} out of range"
            )
    for key in fills.keys() - seen:
        problems.append(f"account {key[0]} has fills of stock {key[1]} but no position")

    for order_id in Order.objects.filter(status=OrderStatus.FILLED, fill__isnull=True).values_list("pk", flat=True):
        problems.append(f"order {order_id} is filled but has no fill")
    return problems
