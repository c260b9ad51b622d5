"""Which groups may see a restricted stock: the ``Stock.restricted`` flag and a shared cache of groups.

A stock is restricted when it has rows in ``Stock.visible_to_groups``. The selectors used to ask
that of the database on every lookup (two ``EXISTS`` subqueries planned per call); now the row
carries the answer (``restricted``), so a lookup of an unrestricted stock, nearly every lookup,
reads the row and nothing else. For a restricted stock the groups that may see it come from
Django's cache (Redis in production, shared by every process).

Both are kept in step with the group rows here, whichever way those change: the admin and the
related managers (``m2m_changed``), and a group's deletion, whose rows go by cascade
(``pre_delete``/``post_delete`` of the group). Django sends no signal for rows of the through model
written directly or in bulk: code that does so (the listing import) calls
``stocks_visibility_changed`` itself.

The cache entry for a stock is stamped with the stock's version token, kept in the same cache; a
change replaces the token after its transaction commits, so every process stops using the old
entry at once, and an entry computed from rows read before the change (a reader racing the
writer) carries the old token and is never used.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import m2m_changed, post_delete, pre_delete

from trading.models import Stock

# Entries outlive no change (the token says so); the timeout only bounds what a lost token could hide.
GROUPS_TIMEOUT_SECONDS = 300


def _version_key(stock_id: int) -> str:
    return f"trading:stock-visibility:{stock_id}:version"


def _groups_key(stock_id: int) -> str:
    return f"trading:stock-visibility:{stock_id}:groups"


def stock_group_ids(stock_id: int) -> frozenset[int]:
    """The ids of the groups that may see the stock (empty: everyone may), from the shared cache."""
    version_key, groups_key = _version_key(stock_id), _groups_key(stock_id)
    cached = cache.get_many([version_key, groups_key])
    version = cached.get(version_key)
    if version is None:
        # No token yet (or it was evicted): a new one, so that no older entry can match it.
        cache.add(version_key, uuid.uuid4().hex, timeout=None)
        version = cache.get(version_key)
    entry = cached.get(groups_key)
    if entry is not None and entry[0] == version:
        return frozenset(entry[1])
    through = Stock.visible_to_groups.through
    group_ids = frozenset(through.objects.filter(stock_id=stock_id).values_list("group_id", flat=True))
    cache.set(groups_key, (version, sorted(group_ids)), timeout=GROUPS_TIMEOUT_SECONDS)
    return group_ids


def stock_visible_to(stock: Stock, viewer) -> bool:
    """Whether ``viewer`` (a user, anonymous, or None) may know about ``stock``, a row already read."""
    if not stock.restricted:
        return True
    if viewer is None or not viewer.is_authenticated:
        return False
    if viewer.is_staff:
        return True
    allowed = stock_group_ids(stock.pk)
    return bool(allowed) and viewer.groups.filter(pk__in=allowed).exists()


def stocks_visibility_changed(stock_ids: Iterable[int]) -> None:
    """The group rows of these stocks changed: set their flag from the rows, and once the change
    commits, retire every process's cached groups for them."""
    stock_ids = sorted(set(stock_ids))
    if not stock_ids:
        return
    through = Stock.visible_to_groups.through
    Stock.objects.filter(pk__in=stock_ids).update(restricted=Exists(through.objects.filter(stock_id=OuterRef("pk"))))

    def retire() -> None:
        cache.set_many({_version_key(stock_id): uuid.uuid4().hex for stock_id in stock_ids}, timeout=None)

    transaction.on_commit(retire)


def _groups_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if reverse and action == "pre_clear":
        # A group emptied of stocks: after the clear no row says which stocks they were.
        instance._stocks_being_cleared = list(instance.visible_stocks.values_list("pk", flat=True))
        return
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if not reverse:
        stocks_visibility_changed([instance.pk])
    elif action == "post_clear":
        stocks_visibility_changed(instance.__dict__.pop("_stocks_being_cleared", []))
    else:
        stocks_visibility_changed(pk_set or [])


def _group_deleting(sender, instance: Group, **kwargs) -> None:
    instance._stocks_being_cleared = list(instance.visible_stocks.values_list("pk", flat=True))


def _group_deleted(sender, instance: Group, **kwargs) -> None:
    stocks_visibility_changed(instance.__dict__.pop("_stocks_being_cleared", []))


def connect() -> None:
    """Called once from ``TradingConfig.ready``."""
    through = Stock.visible_to_groups.through
    m2m_changed.connect(_groups_changed, sender=through, dispatch_uid="trading.visibility.groups")
    pre_delete.connect(_group_deleting, sender=Group, dispatch_uid="trading.visibility.group-deleting")
    post_delete.connect(_group_deleted, sender=Group, dispatch_uid="trading.visibility.group-deleted")
