"""Who may call what: every API endpoint against anonymous, owner, another user and staff.

The API is owner-only for accounts, orders, positions, activity and
watchlists, staff included (staff use the admin). Someone else's object is
not found, never forbidden, so ids do not leak.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group

from trading import services
from trading.models import LedgerEntry, Order, Position, Watchlist
from trading.tests.conftest import buy, client_for, new_stock

pytestmark = pytest.mark.django_db


@dataclass
class World:
    owner: object
    other: object
    staff: object
    order: Order
    watchlist: Watchlist


@pytest.fixture
def world(trader, other, staff, stock) -> World:
    buy(trader, stock, 5, client_order_id="owner-filled")
    order = buy(trader, stock, 1, type="limit", limit_price="10", client_order_id="owner-1")
    watchlist = services.watchlist_create(owner=trader, name="Mine", symbols=["ACME"])
    return World(owner=trader, other=other, staff=staff, order=order, watchlist=watchlist)


# (method, url, body, kind): "own" objects are the owner's only; "list" reads show
# each caller their own rows; "self" writes act on the caller's own account;
# "market" reads are the same for every signed-in user.
ENDPOINTS = [
    ("get", "/api/v1/account", None, "self"),
    ("get", "/api/v1/account/activities", None, "list"),
    ("get", "/api/v1/account/portfolio/history", None, "self"),
    ("get", "/api/v1/orders", None, "list"),
    ("post", "/api/v1/orders", {"symbol": "ACME", "side": "buy", "quantity": 1}, "self"),
    ("get", "/api/v1/orders/by-client-order-id?client_order_id=owner-1", None, "own"),
    ("get", "/api/v1/orders/{order}", None, "own"),
    ("delete", "/api/v1/orders/{order}", None, "own"),
    ("get", "/api/v1/positions", None, "list"),
    ("get", "/api/v1/positions/ACME", None, "own"),
    ("get", "/api/v1/assets", None, "market"),
    ("get", "/api/v1/assets/ACME", None, "market"),
    ("get", "/api/v1/assets/ACME/bars?interval=1m", None, "market"),
    ("get", "/api/v1/assets/ACME/quote", None, "market"),
    ("get", "/api/v1/watchlists", None, "list"),
    ("post", "/api/v1/watchlists", {"name": "New", "symbols": ["ACME"]}, "self"),
    ("get", "/api/v1/watchlists/{watchlist}", None, "own"),
    ("patch", "/api/v1/watchlists/{watchlist}", {"name": "Renamed"}, "own"),
    ("delete", "/api/v1/watchlists/{watchlist}", None, "own"),
    ("post", "/api/v1/watchlists/{watchlist}/items", {"symbol": "ACME"}, "own"),
    ("delete", "/api/v1/watchlists/{watchlist}/items/ACME", None, "own"),
]
ACTORS = ["anonymous", "owner", "other", "staff"]


def call(client, method, url, body):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, content_type="application/json")


def owner_rows(owner, url: str) -> set:
    """Ids (symbols for positions) of the owner's rows that the list endpoint ``url`` shows."""
    if url.endswith("/activities"):
        return set(LedgerEntry.objects.filter(account__user=owner).values_list("id", flat=True))
    if url.endswith("/orders"):
        return set(Order.objects.filter(account__user=owner).values_list("id", flat=True))
    if url.endswith("/positions"):
        return set(Position.objects.filter(account__user=owner, quantity__gt=0).values_list("stock__symbol", flat=True))
    return set(Watchlist.objects.filter(owner=owner).values_list("id", flat=True))


def rows(response) -> list[dict]:
    data = response.json()
    return data["results"] if isinstance(data, dict) and "results" in data else data


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "url", "body", "kind"), ENDPOINTS, ids=[f"{m} {u}" for m, u, _, _ in ENDPOINTS])
def test_access_matrix(world, actor, method, url, body, kind):
    user = None if actor == "anonymous" else getattr(world, actor)
    url = url.format(order=world.order.pk, watchlist=world.watchlist.pk)
    before = (Order.objects.get(pk=world.order.pk).status, Watchlist.objects.filter(pk=world.watchlist.pk).count())
    response = call(client_for(user), method, url, body)

    if actor == "anonymous":
        # 403 with session auth only; 401 once a token scheme with a challenge comes first.
        assert response.status_code in (401, 403)
        assert response.json()["code"] == "not_authenticated"
    elif kind == "own" and actor != "owner":
        assert response.status_code == 404, response.content
        assert response.json()["code"].endswith("not_found")
    else:
        assert response.status_code in (200, 201, 204), response.content
        if kind == "list":
            listed = {row.get("id", row.get("symbol")) for row in rows(response)}
            owners = owner_rows(world.owner, url)
            assert owners
            if actor == "owner":
                assert listed == owners
            else:
                assert not listed & owners
    if not (actor == "owner" and kind == "own"):
        # Nobody but the owner changed the owner's order or watchlist.
        after = (Order.objects.get(pk=world.order.pk).status, Watchlist.objects.filter(pk=world.watchlist.pk).count())
        assert after == before


def test_other_users_lists_hold_only_their_own_rows(world):
    buy(world.other, world.order.stock, 1, client_order_id="other-1")
    response = client_for(world.other).get("/api/v1/orders")
    assert [row["client_order_id"] for row in rows(response)] == ["other-1"]
    account = client_for(world.other).get("/api/v1/account").json()
    assert account["id"] == world.other.trading_account.pk


def test_session_writes_need_the_csrf_token(world):
    client = client_for(world.owner)
    client.handler.enforce_csrf_checks = True
    response = client.post(
        "/api/v1/orders", {"symbol": "ACME", "side": "buy", "quantity": 1}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "CSRF" in response.json()["detail"]
    assert Order.objects.filter(account__user=world.owner).count() == 2


HIDDEN_URLS = [
    ("get", "/api/v1/assets/SECRET", None),
    ("get", "/api/v1/assets/SECRET/bars", None),
    ("get", "/api/v1/assets/SECRET/quote", None),
    ("post", "/api/v1/orders", {"symbol": "SECRET", "side": "buy", "quantity": 1}),
    ("post", "/api/v1/watchlists", {"name": "Peek", "symbols": ["SECRET"]}),
    ("post", "/api/v1/watchlists/{watchlist}/items", {"symbol": "SECRET"}),
    ("get", "/api/v1/positions/SECRET", None),
]


@pytest.fixture
def secret(db):
    stock = new_stock("SECRET", price="50.00")
    premium = Group.objects.create(name="premium")
    stock.visible_to_groups.add(premium)
    return premium


@pytest.mark.parametrize(("method", "url", "body"), HIDDEN_URLS, ids=[f"{m} {u}" for m, u, _ in HIDDEN_URLS])
def test_hidden_stocks_are_not_found_everywhere(world, secret, method, url, body):
    url = url.format(watchlist=world.watchlist.pk)
    hidden = call(client_for(world.owner), method, url, body)
    unknown = call(
        client_for(world.owner),
        method,
        url.replace("SECRET", "NOSUCH"),
        body
        and {
            k: (v.replace("SECRET", "NOSUCH") if isinstance(v, str) else ["NOSUCH"] if isinstance(v, list) else v)
            for k, v in body.items()
        },
    )
    assert hidden.status_code == 404
    assert hidden.json()["code"] == unknown.json()["code"]
    assert hidden.json()["detail"].replace("SECRET", "X") == unknown.json()["detail"].replace("NOSUCH", "X")
    listed = rows(client_for(world.owner).get("/api/v1/assets"))
    assert "SECRET" not in {row["symbol"] for row in listed}
    assert not Order.objects.filter(stock__symbol="SECRET").exists()


def test_group_members_and_staff_see_restricted_stocks(world, secret):
    world.other.groups.add(secret)
    for user in (world.other, world.staff):
        client = client_for(user)
        assert client.get("/api/v1/assets/SECRET").status_code == 200
        assert "SECRET" in {row["symbol"] for row in rows(client.get("/api/v1/assets"))}
    response = client_for(world.other).post(
        "/api/v1/orders", {"symbol": "SECRET", "side": "buy", "quantity": 1}, content_type="application/json"
    )
    assert response.status_code == 201


def test_a_watchlist_hides_a_stock_its_owner_can_no_longer_see(world, secret):
    world.owner.groups.add(secret)
    services.watchlist_item_add(watchlist=world.watchlist, symbol="SECRET")
    world.owner.groups.remove(secret)
    data = client_for(world.owner).get(f"/api/v1/watchlists/{world.watchlist.pk}").json()
    assert [s["symbol"] for s in data["stocks"]] == ["ACME"]
