from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services import api_token_create
from trading import services
from trading.models import Order
from trading.tests.conftest import T0, buy, client_for, new_stock

pytestmark = pytest.mark.django_db


def post_order(client, **body):
    return client.post("/api/v1/orders", body, content_type="application/json")


def test_order_create_replay_and_conflict(trader, stock):
    client = client_for(trader)
    body = {
        "symbol": "acme",
        "side": "buy",
        "type": "limit",
        "limit_price": "90.5",
        "quantity": 3,
        "client_order_id": "k1",
    }
    first = post_order(client, **body)
    assert first.status_code == 201
    data = first.json()
    assert (data["symbol"], data["status"], data["limit_price"], data["reserved_amount"]) == (
        "ACME",
        "new",
        "90.5000",
        "271.50",
    )
    again = post_order(client, **body)
    assert again.status_code == 200
    assert again.json()["id"] == data["id"]
    conflict = post_order(client, **{**body, "quantity": 4})
    assert conflict.status_code == 422
    assert conflict.json() == {
        "code": "client_order_id_conflict",
        "detail": "client_order_id 'k1' was already used for a different order.",
    }
    assert Order.objects.count() == 1
    found = client.get("/api/v1/orders/by-client-order-id?client_order_id=k1").json()
    assert found["id"] == data["id"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"side": "buy", "quantity": 1}, 400, "invalid"),
        ({"symbol": "ACME", "side": "buy", "quantity": 0}, 400, "invalid"),
        ({"symbol": "ACME", "side": "buy", "quantity": "many"}, 400, "invalid"),
        ({"symbol": "ACME", "side": "buy", "quantity": 1, "type": "limit", "limit_price": "1.00001"}, 400, "invalid"),
        ({"symbol": "ACME", "side": "buy", "quantity": 1, "type": "limit"}, 400, "invalid_order"),
        ({"symbol": "ACME", "side": "buy", "quantity": 5000}, 422, "insufficient_buying_power"),
        ({"symbol": "ACME", "side": "sell", "quantity": 1}, 422, "insufficient_position"),
        ({"symbol": "NOPE", "side": "buy", "quantity": 1}, 404, "stock_not_found"),
    ],
)
def test_bad_orders_get_a_json_error_with_a_stable_code(trader, stock, body, status, code):
    response = post_order(client_for(trader), **body)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert Order.objects.count() == 0


def test_malformed_json_is_a_parse_error(trader):
    response = client_for(trader).post("/api/v1/orders", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_cancel_over_the_api(trader, stock):
    client = client_for(trader)
    order = post_order(client, symbol="ACME", side="buy", type="limit", limit_price="10", quantity=1).json()
    response = client.delete(f"/api/v1/orders/{order['id']}")
    assert (response.status_code, response.json()["status"]) == (200, "canceled")
    again = client.delete(f"/api/v1/orders/{order['id']}")
    assert (again.status_code, again.json()["code"]) == (422, "order_not_open")


def test_day_change_counts_todays_buys_from_their_fill_price(trader, db):
    from django.utils import timezone

    # Yesterday's close 334.07, today's quote 326.91: a buy today is measured from what it cost.
    stock = new_stock("XTAL", price="334.07", at=T0 - timedelta(days=1))
    services.quote_record(stock=stock, price=Decimal("326.91"), at=T0)
    buy(trader, stock, 8)
    services.quote_record(stock=stock, price=Decimal("326.9375"), at=T0 + timedelta(minutes=1))
    client = client_for(trader)
    position = client.get("/api/v1/positions/XTAL").json()
    assert position["change_today"] == position["unrealized_pnl"] == "0.22"
    assert position["day_basis"] == position["cost_basis"] == "2615.28"
    [listed] = client.get("/api/v1/positions").json()
    assert (listed["day_basis"], listed["change_today"]) == ("2615.28", "0.22")
    account = client.get("/api/v1/account").json()
    assert account["last_equity"] == "100000.00"
    assert Decimal(account["equity"]) - Decimal(account["last_equity"]) == Decimal("0.22")
    # The next day those shares were held overnight: they count from the close (326.9375).
    services.quote_record(stock=stock, price=Decimal("330"), at=timezone.now() + timedelta(days=1))
    position = client.get("/api/v1/positions/XTAL").json()
    assert position["day_basis"] == "2615.50"
    assert position["change_today"] == "24.50"


def test_order_list_filters_and_cursor_pagination(trader, stock):
    for i in range(5):
        buy(trader, stock, 1, type="limit", limit_price="10", client_order_id=f"o{i}")
    buy(trader, stock, 1)
    client = client_for(trader)
    open_orders = client.get("/api/v1/orders?status=open&limit=2").json()
    assert [o["client_order_id"] for o in open_orders["results"]] == ["o4", "o3"]
    page2 = client.get(open_orders["next"]).json()
    assert [o["client_order_id"] for o in page2["results"]] == ["o2", "o1"]
    closed = client.get("/api/v1/orders?status=closed").json()["results"]
    assert [o["status"] for o in closed] == ["filled"]
    assert client.get("/api/v1/orders?symbol=OTHER").json()["results"] == []
    bad = client.get("/api/v1/orders?status=weird")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_query")


def test_account_positions_and_portfolio(trader, stock):
    buy(trader, stock, 10)
    services.quote_record(stock=stock, price=Decimal("110"), at=T0 + timedelta(minutes=1))
    client = client_for(trader)
    account = client.get("/api/v1/account").json()
    assert account["cash"] == "99000.00"
    assert account["long_market_value"] == "1100.00"
    assert account["equity"] == "100100.00"
    assert account["unrealized_pnl"] == "100.00"
    position = client.get("/api/v1/positions/ACME").json()
    assert position["market_value"] == "1100.00"
    assert position["unrealized_pnl"] == "100.00"
    assert position["change_today"] == "100.00"
    history = client.get("/api/v1/account/portfolio/history?days=5")
    assert history.status_code == 200
    assert client.get("/api/v1/account/portfolio/history?days=0").json()["code"] == "invalid_query"
    activities = client.get("/api/v1/account/activities?kind=buy").json()["results"]
    assert [(a["kind"], a["amount"], a["fill"]["symbol"]) for a in activities] == [("buy", "-1000.00", "ACME")]


def test_bars_by_interval_and_range(trader, stock):
    for minute in range(1, 4):
        services.quote_record(stock=stock, price=Decimal(100 + minute), at=T0 + timedelta(minutes=minute))
    client = client_for(trader)
    bars = client.get("/api/v1/assets/ACME/bars?interval=1m").json()["results"]
    assert [b["close"] for b in bars] == ["100.0000", "101.0000", "102.0000", "103.0000"]
    start = (T0 + timedelta(minutes=2)).isoformat().replace("+00:00", "Z")
    ranged = client.get("/api/v1/assets/ACME/bars", {"interval": "1m", "start": start}).json()["results"]
    assert len(ranged) == 2
    assert client.get("/api/v1/assets/ACME/bars?start=yesterday").json()["code"] == "invalid_query"
    assert client.get("/api/v1/assets/ACME/bars?interval=5m").json()["code"] == "invalid_query"


def test_watchlists_over_the_api(trader, stock):
    new_stock("BETA")
    client = client_for(trader)
    created = client.post("/api/v1/watchlists", {"name": "Tech", "symbols": ["ACME"]}, content_type="application/json")
    assert created.status_code == 201
    wid = created.json()["id"]
    dup = client.post("/api/v1/watchlists", {"name": "Tech"}, content_type="application/json")
    assert (dup.status_code, dup.json()["code"]) == (409, "watchlist_name_taken")
    added = client.post(f"/api/v1/watchlists/{wid}/items", {"symbol": "BETA"}, content_type="application/json")
    assert [s["symbol"] for s in added.json()["stocks"]] == ["ACME", "BETA"]
    assert client.delete(f"/api/v1/watchlists/{wid}/items/ACME").status_code == 204
    assert client.delete(f"/api/v1/watchlists/{wid}/items/ACME").json()["code"] == "not_on_watchlist"
    renamed = client.patch(f"/api/v1/watchlists/{wid}", {"name": "Chips"}, content_type="application/json")
    assert renamed.json()["name"] == "Chips"
    assert client.delete(f"/api/v1/watchlists/{wid}").status_code == 204


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def _grow(trader, rounds: int) -> None:
    for _ in range(rounds):
        stock = new_stock()
        buy(trader, stock, 1)
        buy(trader, stock, 1, type="limit", limit_price="1")
        services.account_credit(account=trader.trading_account, amount="1.00")
        watchlist = services.watchlist_create(owner=trader, name=f"W{stock.symbol}", symbols=[stock.symbol, "ACME"])
        assert watchlist.pk


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/orders",
        "/api/v1/positions",
        "/api/v1/assets",
        "/api/v1/account",
        "/api/v1/account/activities",
        "/api/v1/account/portfolio/history",
        "/api/v1/watchlists",
        "/api/v1/assets/ACME/bars?interval=1m",
    ],
)
def test_query_count_does_not_grow_with_rows(trader, stock, url):
    client = client_for(trader)
    _grow(trader, 2)
    few = _count_queries(client, url)
    _grow(trader, 6)
    for minute in range(1, 6):
        services.quote_record(stock=stock, price=Decimal("100"), at=T0 + timedelta(minutes=minute))
    many = _count_queries(client, url)
    assert many == few


def test_schema_and_docs(trader, client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/orders/{order_id}" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    resources = linked_resources(page)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in resources
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in resources
    # Everything the page loads comes from this site: no CDN or other host, in
    # tags or in inline scripts and styles.
    assert [url for url in resources if urlsplit(url).scheme or urlsplit(url).netloc] == []
    assert ABSOLUTE_URL.findall(page) == []


# A URL naming a host: scheme-relative (//host.tld) or absolute (https://host.tld).
ABSOLUTE_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*:)?//[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.IGNORECASE)


class _ResourceLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href", "srcset", "data"} and value]


def linked_resources(page: str) -> list[str]:
    """The URLs in the page's ``src``/``href`` attributes (scripts, styles, icons, frames)."""
    parser = _ResourceLinks()
    parser.feed(page)
    return parser.urls


def test_the_resource_check_sees_external_urls_but_not_tokens_that_spell_cdn():
    page = (
        '<link rel="stylesheet" href="https://cdn.jsdelivr.net/x.css"><script src="//unpkg.com/a.js"></script>'
        '<input name="csrfmiddlewaretoken" value="aBcDnCdN9"><script>const u = "https://cdn.example.org/b.js";</script>'
    )
    external = [url for url in linked_resources(page) if urlsplit(url).scheme or urlsplit(url).netloc]
    assert external == ["https://cdn.jsdelivr.net/x.css", "//unpkg.com/a.js"]
    assert ABSOLUTE_URL.findall(page) == ["https://cdn.jsdelivr.net", "//unpkg.com", "https://cdn.example.org"]
    assert ABSOLUTE_URL.findall('<p data-token="xcdnq">// a comment, not a URL</p>') == []


def test_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/watchlists/{watchlist_id}/items/{symbol}" in target.read_text()


def test_order_submission_is_rate_limited(trader, stock, settings):
    from django.core.cache import cache

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"trading-orders": "2/minute"}}
    cache.clear()
    client = client_for(trader)
    codes = [post_order(client, symbol="ACME", side="buy", quantity=1).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    limited = post_order(client, symbol="ACME", side="buy", quantity=1)
    assert limited.json()["code"] == "throttled"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert Order.objects.count() == 2
    assert client.get("/api/v1/orders").status_code == 200  # reads are not limited
    cache.clear()


def test_a_junk_order_rate_stops_start_up():
    from stockchat.tests.test_settings import PRODUCTION, load_settings

    result = load_settings(**PRODUCTION, STOCKCHAT_ORDER_RATE="lots")
    assert result.returncode != 0
    assert "STOCKCHAT_ORDER_RATE" in result.stderr


def test_placing_a_resting_order_makes_one_statement_per_step(trader, stock):
    # Token, visible stock, account lock, stock flags with the price under the lock,
    # cash reservation, order insert: no replay lookup for a generated client_order_id,
    # no position for a buy that does not fill.
    token = api_token_create(user=trader, name="count")[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {"symbol": "ACME", "side": "buy", "type": "limit", "quantity": 1, "limit_price": "1.00"}
    client.post("/api/v1/orders", body, content_type="application/json")  # records the token's first use
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/v1/orders", body, content_type="application/json")
    assert response.status_code == 201, response.content
    statements = [q["sql"].split()[0] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert statements == ["SELECT", "SELECT", "SELECT", "SELECT", "UPDATE", "INSERT"], ctx.captured_queries
