"""Price alerts: set from the API and the stock page, fired by the feed's ticks once each, re-armed,
never fired for a stock its owner may no longer see, and told live with an unread count."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import NotFound, ServiceError
from trading import events, services
from trading.models import Notification, PriceAlert
from trading.tests import test_events
from trading.tests.conftest import T0, client_for, new_stock

pytestmark = pytest.mark.django_db
received = test_events.received


def tick(stock, price: str, minutes: int = 1):
    return services.quote_record(stock=stock, price=Decimal(price), at=T0 + timedelta(minutes=minutes))


def test_an_above_alert_fires_once_then_again_after_re_arming(trader, stock):
    alert = services.alert_create(user=trader, symbol="acme", condition="above", threshold="105")
    tick(stock, "104.99", 1)
    assert Notification.objects.count() == 0
    tick(stock, "105.00", 2)
    tick(stock, "106.00", 3)
    [notification] = Notification.objects.all()
    assert notification.text == "ACME is at $105.00, at or above your alert at $105.00."
    alert.refresh_from_db()
    assert (alert.armed, alert.triggered_price) == (False, Decimal("105.0000"))
    services.alert_rearm(user=trader, alert_id=alert.pk)
    tick(stock, "107.00", 4)
    assert Notification.objects.count() == 2


def test_below_and_day_move_alerts(trader, stock):
    # ACME's previous close is its first price, 100.00.
    services.alert_create(user=trader, symbol="ACME", condition="below", threshold="95")
    services.alert_create(user=trader, symbol="ACME", condition="day_move", threshold="4.5")
    tick(stock, "96.00", 1)
    assert Notification.objects.count() == 0
    tick(stock, "95.00", 2)
    texts = sorted(Notification.objects.values_list("text", flat=True))
    assert texts == [
        "ACME is at $95.00, at or below your alert at $95.00.",
        "ACME moved -5.00% today ($95.00), past your 4.5% alert.",
    ]


def test_an_alert_on_a_stock_its_owner_can_no_longer_see_never_fires(trader, other, stock):
    services.alert_create(user=trader, symbol="ACME", condition="above", threshold="101")
    services.alert_create(user=other, symbol="ACME", condition="above", threshold="101")
    premium = Group.objects.create(name="premium")
    stock.visible_to_groups.add(premium)
    other.groups.add(premium)
    tick(stock, "102.00")
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["other"]
    assert PriceAlert.objects.get(user=trader).armed
    with pytest.raises(NotFound):
        services.alert_create(user=trader, symbol="ACME", condition="above", threshold="101")


@pytest.mark.parametrize(
    ("condition", "threshold", "code"),
    [("sideways", "1", "invalid_alert"), ("above", "-1", "invalid_price"), ("day_move", "0", "invalid_alert")],
)
def test_bad_alerts_are_refused(trader, stock, condition, threshold, code):
    with pytest.raises(ServiceError) as caught:
        services.alert_create(user=trader, symbol="ACME", condition=condition, threshold=threshold)
    assert caught.value.code == code


def test_a_fired_alert_is_sent_to_its_owner_after_the_commit(
    trader, stock, received, django_capture_on_commit_callbacks
):
    alert = services.alert_create(user=trader, symbol="ACME", condition="above", threshold="101")
    drain = received(events.user_group(trader.pk))
    with django_capture_on_commit_callbacks(execute=True):
        tick(stock, "101.50")
    frames = [frame for frame in drain() if frame["type"] == "alert.triggered"]
    notification = Notification.objects.get()
    assert frames == [
        {
            "type": "alert.triggered",
            "v": 1,
            "notification": {
                "id": notification.pk,
                "alert_id": alert.pk,
                "symbol": "ACME",
                "text": "ACME is at $101.50, at or above your alert at $101.00.",
                "created_at": notification.created_at.isoformat(),
            },
            "unread": 1,
        }
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_thousands_of_alerts_are_evaluated_in_a_fixed_number_of_queries(make_user):
    stocks = [new_stock(f"S{n}", price="100.00") for n in range(5)]
    users = [make_user(f"u{n}") for n in range(20)]
    PriceAlert.objects.bulk_create(
        PriceAlert(user=users[n % 20], stock=stocks[n % 5], condition="above", threshold=Decimal(100 + n % 400) / 4)
        for n in range(5000)
    )
    # thresholds run 25.00 .. 124.75; a tick to 110.00 meets those at or below it.
    expected = PriceAlert.objects.filter(threshold__lte=Decimal("110")).count()
    ticks = [services.PriceTick(stock=stock, price="110.00") for stock in stocks]
    with CaptureQueriesContext(connection) as few:
        services.quotes_record(ticks=ticks, at=T0 + timedelta(minutes=1))
    assert Notification.objects.count() == expected
    assert PriceAlert.objects.filter(armed=True).count() == 5000 - expected
    # Again, with every alert that could fire fired: nothing new, and the same queries.
    with CaptureQueriesContext(connection) as again:
        services.quotes_record(ticks=ticks, at=T0 + timedelta(minutes=2))
    assert Notification.objects.count() == expected
    alert_queries = [q["sql"] for q in few.captured_queries if "price_alert" in q["sql"] or "notification" in q["sql"]]
    assert len(alert_queries) <= 4, alert_queries
    assert len(again.captured_queries) <= len(few.captured_queries)


def test_the_api_sets_lists_re_arms_and_deletes_alerts_of_their_owner_only(trader, other, stock):
    api = client_for(trader)
    created = api.post(
        "/api/v1/alerts", {"symbol": "ACME", "condition": "above", "threshold": "101"}, "application/json"
    )
    assert created.status_code == 201, created.content
    alert_id = created.json()["id"]
    assert created.json()["armed"] is True
    assert [a["id"] for a in api.get("/api/v1/alerts").json()["results"]] == [alert_id]
    outsider = client_for(other)
    assert outsider.get(f"/api/v1/alerts/{alert_id}").status_code == 404
    assert outsider.delete(f"/api/v1/alerts/{alert_id}").status_code == 404
    assert outsider.get("/api/v1/alerts").json()["results"] == []
    tick(stock, "102.00")
    assert api.get(f"/api/v1/alerts/{alert_id}").json()["armed"] is False
    assert api.get("/api/v1/notifications/unread").json() == {"unread": 1}
    assert outsider.get("/api/v1/notifications/unread").json() == {"unread": 0}
    assert api.get("/api/v1/notifications").json()["results"][0]["symbol"] == "ACME"
    assert api.post("/api/v1/notifications/read").json() == {"unread": 0}
    assert api.get("/api/v1/notifications/unread").json() == {"unread": 0}
    assert api.post(f"/api/v1/alerts/{alert_id}/rearm").json()["armed"] is True
    refused = api.post("/api/v1/alerts", {"symbol": "ACME", "condition": "above", "threshold": "0"}, "application/json")
    assert refused.status_code == 400
    assert api.delete(f"/api/v1/alerts/{alert_id}").status_code == 204
    assert api.get("/api/v1/alerts").json()["results"] == []


def test_the_stock_page_sets_an_alert_and_the_header_counts_unread(trader, stock):
    page = client_for(trader)
    response = page.post("/stocks/ACME/alerts/", {"condition": "below", "threshold": "90"}, follow=True)
    assert "Alert set: ACME price at or below 90." in response.content.decode()
    tick(stock, "89.00")
    body = page.get("/notifications/").content.decode()
    assert "ACME is at $89.00, at or below your alert at $90.00." in body
    assert 'data-notifications-unread="1"' in body
    page.post("/notifications/read/")
    assert 'data-notifications-unread="0"' in page.get("/dashboard/").content.decode()


def test_the_dashboard_shows_top_movers_among_visible_stocks_with_sparklines(trader, stock):
    hidden = new_stock("SECRET", price="10.00")
    hidden.visible_to_groups.add(Group.objects.create(name="insiders"))
    bolt = new_stock("BOLT", price="50.00")
    tick(stock, "110.00")  # +10%
    tick(bolt, "45.00")  # -10%
    tick(hidden, "20.00")  # +100%, but not for this viewer
    services.watchlist_create(owner=trader, name="Mine", symbols=["ACME"])
    body = client_for(trader).get("/dashboard/").content.decode()
    movers = body[body.index("data-movers") : body.index("positions-heading")]
    assert 'data-mover="ACME"' in movers
    assert 'data-mover="BOLT"' in movers
    assert "SECRET" not in body
    assert 'data-sparkline="ACME"' in body
