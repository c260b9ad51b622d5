"""The restricted flag follows the group rows, unrestricted lookups need no subquery, and the cached
groups of a restricted stock change for every process at once (trading/visibility.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.cache import CacheHandler
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trading import selectors, visibility
from trading.formats.listing import ListingRow
from trading.models import Company, Stock
from trading.selectors import NotFound
from trading.services.listing import listing_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock():
    company = Company.objects.create(name="Quantum Widgets")
    return Stock.objects.create(symbol="QNTM", company=company)


def restricted(stock: Stock) -> bool:
    return Stock.objects.values_list("restricted", flat=True).get(pk=stock.pk)


def test_the_flag_follows_every_way_the_groups_change(stock):
    premium, pro = Group.objects.create(name="premium"), Group.objects.create(name="pro")
    assert not restricted(stock)
    stock.visible_to_groups.add(premium)
    assert restricted(stock)
    stock.visible_to_groups.remove(premium)
    assert not restricted(stock)
    stock.visible_to_groups.set([premium, pro])  # the admin's form
    assert restricted(stock)
    stock.visible_to_groups.clear()
    assert not restricted(stock)
    # From the group's side.
    premium.visible_stocks.add(stock)
    assert restricted(stock)
    premium.visible_stocks.clear()
    assert not restricted(stock)
    # A group deleted: its rows go by cascade.
    pro.visible_stocks.add(stock)
    assert restricted(stock)
    pro.delete()
    assert not restricted(stock)


def listing_row(restricted: tuple[str, ...]) -> ListingRow:
    return ListingRow(
        symbol="QNTM",
        name="Quantum Widgets",
        exchange="XSIM",
        sector="Tech",
        description="",
        website="",
        currency="USD",
        tradable=True,
        restricted=restricted,
        line=2,
    )


def test_the_listing_import_sets_the_flag(stock):
    # The import writes group rows in bulk (no signal): it sets the flag itself.
    listing_import(rows=[listing_row(("premium",))])
    assert restricted(stock)
    listing_import(rows=[listing_row(())])
    assert not restricted(stock)


def test_an_unrestricted_stock_is_looked_up_without_a_subquery(stock, make_user):
    alice = make_user("alice")
    with CaptureQueriesContext(connection) as queries:
        assert selectors.stock_get(viewer=alice, symbol="QNTM") == stock
    assert len(queries) == 1
    assert "EXISTS" not in queries[0]["sql"].upper()


def test_a_restricted_stock_is_found_by_its_groups_only(stock, make_user):
    premium = Group.objects.create(name="premium")
    stock.visible_to_groups.add(premium)
    member, outsider = make_user("member"), make_user("outsider")
    member.groups.add(premium)
    assert selectors.stock_get(viewer=member, symbol="QNTM") == stock
    with pytest.raises(NotFound):
        selectors.stock_get(viewer=outsider, symbol="QNTM")
    with pytest.raises(NotFound):
        selectors.stock_get(viewer=None, symbol="QNTM")


def two_processes_caches(redis_url: str):
    """Two cache clients on one Redis, each with its own connections, as two web processes have."""
    config = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": "t"}
    return CacheHandler({"default": config})["default"], CacheHandler({"default": config})["default"]


@pytest.mark.django_db(transaction=True)
def test_a_change_of_groups_is_seen_at_once_by_every_process(stock, make_user, redis_url, monkeypatch):
    first, second = two_processes_caches(redis_url)
    premium, pro = Group.objects.create(name="premium"), Group.objects.create(name="pro")
    stock.visible_to_groups.add(premium)
    alice = make_user("alice")
    alice.groups.add(pro)

    def lookup_in(cache) -> bool:
        monkeypatch.setattr(visibility, "cache", cache)
        try:
            selectors.stock_get(viewer=alice, symbol="QNTM")
        except NotFound:
            return False
        return True

    # Both processes have the groups cached: alice (in pro) may not see the stock.
    assert not lookup_in(first)
    assert not lookup_in(second)
    # The first process shares the stock with pro (the admin saving the form there).
    monkeypatch.setattr(visibility, "cache", first)
    stock.visible_to_groups.add(pro)
    # The second process sees it on its next lookup, and so does the first.
    assert lookup_in(second)
    assert lookup_in(first)
    # And when pro is taken off again.
    monkeypatch.setattr(visibility, "cache", second)
    stock.visible_to_groups.remove(pro)
    assert not lookup_in(first)
    assert not lookup_in(second)


@pytest.mark.django_db(transaction=True)
def test_groups_read_before_a_change_are_never_used_after_it(stock, redis_url, monkeypatch):
    """A reader that read the rows before a change and stores its entry after it: its entry carries
    the old version token, so the next reader recomputes."""
    cache, _ = two_processes_caches(redis_url)
    monkeypatch.setattr(visibility, "cache", cache)
    premium = Group.objects.create(name="premium")
    stock.visible_to_groups.add(premium)
    assert visibility.stock_group_ids(stock.pk) == {premium.pk}
    old_version = cache.get(visibility._version_key(stock.pk))
    stock.visible_to_groups.clear()
    # The late reader's entry, as it would have written it.
    cache.set(visibility._groups_key(stock.pk), (old_version, [premium.pk]))
    assert visibility.stock_group_ids(stock.pk) == frozenset()
