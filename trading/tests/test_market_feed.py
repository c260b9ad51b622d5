"""The market feed: simulator, runner, lease, worker command."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from trading.market.feed import FeedRunner, FeedSettings, SimulatedFeed
from trading.market.simulator import RandomWalk, Tick, WalkParams, params_from_closes
from trading.models import BarInterval, MarketFeedLease, Order, PriceBar, Quote
from trading.services.feed import feed_lease_acquire, feed_lease_release
from trading.tests.conftest import T0, buy, new_stock

TTL = timedelta(seconds=10)


class ScriptedFeed:
    """A feed that plays given prices, to drive the runner to exact values."""

    def __init__(self, stocks, prices: list[dict[str, str]]) -> None:
        self.settings = FeedSettings(interval=1.0)
        self.stocks = {stock.symbol: stock for stock in stocks}
        self.prices = list(prices)

    def refresh_stocks(self) -> None:
        pass

    def next_ticks(self) -> list[Tick]:
        step = self.prices.pop(0)
        return [Tick(symbol, Decimal(price), 100) for symbol, price in step.items()]


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


# --- simulator ---------------------------------------------------------------------------


def test_random_walk_is_repeatable_with_a_seed_and_never_goes_below_a_cent():
    prices = {"ACME": Decimal("100.00"), "PENY": Decimal("0.02")}
    params = {"PENY": WalkParams(drift=-0.5, volatility=1.5)}
    first = RandomWalk(prices, params, seed=7, time_scale=100_000)
    second = RandomWalk(prices, params, seed=7, time_scale=100_000)
    runs = [[first.step(1.0) for _ in range(200)], [second.step(1.0) for _ in range(200)]]
    assert runs[0] == runs[1]
    ticks = [tick for step in runs[0] for tick in step]
    assert {tick.symbol for tick in ticks} == {"ACME", "PENY"}
    assert all(tick.price >= Decimal("0.01") and tick.price == tick.price.quantize(Decimal("0.01")) for tick in ticks)
    assert len({tick.price for tick in ticks if tick.symbol == "ACME"}) > 50  # it really moves


def test_volatility_is_estimated_from_daily_closes():
    calm = [Decimal("100") + Decimal(n % 2) / 100 for n in range(60)]
    wild = [Decimal("100") * (Decimal("1.05") if n % 2 else Decimal("0.95")) for n in range(60)]
    assert params_from_closes(calm).volatility < params_from_closes(wild).volatility
    assert params_from_closes(calm[:5]) == WalkParams()  # too little history: defaults


# --- lease ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_one_holder_at_a_time_until_release_or_expiry():
    assert feed_lease_acquire(holder="a", ttl=TTL, now=T0)
    assert not feed_lease_acquire(holder="b", ttl=TTL, now=T0 + timedelta(seconds=5))
    assert feed_lease_acquire(holder="a", ttl=TTL, now=T0 + timedelta(seconds=5))  # renewal
    assert not feed_lease_acquire(holder="b", ttl=TTL, now=T0 + timedelta(seconds=14))
    assert feed_lease_acquire(holder="b", ttl=TTL, now=T0 + timedelta(seconds=16))  # a expired
    assert not feed_lease_acquire(holder="a", ttl=TTL, now=T0 + timedelta(seconds=17))
    feed_lease_release(holder="b")
    assert feed_lease_acquire(holder="a", ttl=TTL, now=T0 + timedelta(seconds=18))
    assert MarketFeedLease.objects.get().holder == "a"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_feeds_never_both_win_an_expired_lease():
    assert connection.vendor == "postgresql"
    feed_lease_acquire(holder="old", ttl=TTL, now=T0)
    later = T0 + timedelta(minutes=1)
    for attempt in range(5):
        barrier = threading.Barrier(8)
        winners: list[str] = []

        def race(name: str, now: datetime, barrier=barrier, winners=winners) -> None:
            barrier.wait()
            try:
                if feed_lease_acquire(holder=name, ttl=TTL, now=now):
                    winners.append(name)
            finally:
                connection.close()

        now = later + timedelta(minutes=attempt)
        threads = [threading.Thread(target=race, args=(f"feed-{attempt}-{n}", now)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(winners) == 1, winners
        assert MarketFeedLease.objects.get().holder == winners[0]


# --- runner ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_runner_records_quotes_and_minute_bars_and_fills_crossed_orders(trader):
    acme = new_stock("ACME", price="100.00")
    order = buy(trader, acme, quantity=5, type="limit", limit_price="98.00", time_in_force="gtc")
    assert order.status == "new"
    feed = ScriptedFeed([acme], [{"ACME": "99.50"}, {"ACME": "97.90"}, {"ACME": "98.40"}])
    clock = Clock(T0 + timedelta(seconds=10))
    runner = FeedRunner(feed, holder="test", clock=clock)

    assert runner.tick_once(0.0)
    assert Quote.objects.get(stock=acme).price == Decimal("99.50")
    order.refresh_from_db()
    assert order.status == "new"

    clock.at += timedelta(seconds=1)
    assert runner.tick_once(1.0)
    order.refresh_from_db()
    assert order.status == "filled"
    assert order.filled_average_price == Decimal("97.90")

    clock.at += timedelta(seconds=70)
    runner.tick_once(2.0)
    minute_bars = list(PriceBar.objects.filter(stock=acme, interval=BarInterval.MINUTE).order_by("start"))
    assert len(minute_bars) == 2
    assert (minute_bars[0].low, minute_bars[0].close) == (Decimal("97.90"), Decimal("97.90"))
    assert minute_bars[1].close == Decimal("98.40")
    assert runner.ticks_recorded == 3
    call_command("check_books")


@pytest.mark.django_db
def test_a_second_runner_stands_by_while_the_first_holds_the_lease():
    acme = new_stock("ACME", price="100.00")
    clock = Clock(T0)
    first = FeedRunner(ScriptedFeed([acme], [{"ACME": "101.00"}] * 3), holder="first", clock=clock)
    second = FeedRunner(ScriptedFeed([acme], [{"ACME": "55.00"}] * 3), holder="second", clock=clock)
    assert first.tick_once(0.0)
    assert not second.tick_once(0.0)
    assert Quote.objects.get(stock=acme).price == Decimal("101.00")
    first.release()
    assert second.tick_once(1.0)
    assert Quote.objects.get(stock=acme).price == Decimal("55.00")


@pytest.mark.django_db
def test_day_orders_expire_when_the_market_day_rolls_over(trader):
    acme = new_stock("ACME", price="100.00")
    day = buy(trader, acme, quantity=1, type="limit", limit_price="90.00", time_in_force="day")
    gtc = buy(trader, acme, quantity=1, type="limit", limit_price="90.00", time_in_force="gtc")
    clock = Clock(timezone.now())
    runner = FeedRunner(ScriptedFeed([acme], [{"ACME": "99.00"}, {"ACME": "99.10"}]), holder="t", clock=clock)
    runner.tick_once(0.0)
    clock.at = datetime.combine(clock.at.date() + timedelta(days=1), time(0, 0, 5), tzinfo=UTC)
    runner.tick_once(1.0)
    assert Order.objects.get(pk=day.pk).status == "expired"
    assert Order.objects.get(pk=gtc.pk).status == "new"
    call_command("check_books")


@pytest.mark.django_db
def test_simulated_feed_walks_every_tradable_stock_with_a_price():
    acme = new_stock("ACME", price="100.00")
    new_stock("GLOB", price="20.00")
    new_stock("NOPX", price=None)  # nothing to walk from yet
    new_stock("GONE", price="5.00", tradable=False)
    runner = FeedRunner(SimulatedFeed(FeedSettings(seed=1)), holder="sim")
    assert runner.tick_once(0.0)
    assert set(runner.feed.stocks) == {"ACME", "GLOB"}
    assert Quote.objects.get(stock=acme).updated_at > T0
    assert runner.ticks_recorded == 2


@pytest.mark.django_db(transaction=True)
def test_worker_command_records_ticks_and_stops_by_itself(capsys):
    new_stock("ACME", price="100.00")
    call_command("run_market_feed", "--interval", "0.01", "--ticks", "3", "--seed", "3")
    out = capsys.readouterr().out
    assert "stopped after recording 3 quotes" in out
    assert not MarketFeedLease.objects.exists()  # released on the way out


def test_worker_command_refuses_a_silly_interval():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--interval"):
        call_command("run_market_feed", "--interval", "0")


@pytest.mark.django_db
def test_opening_cash_account_is_unaffected_by_the_feed(trader):
    # The feed moves prices, never cash: the books still balance after many ticks.
    acme = new_stock("ACME", price="100.00")
    buy(trader, acme, quantity=10)
    runner = FeedRunner(SimulatedFeed(FeedSettings(seed=5, time_scale=10_000)), holder="sim")
    for step in range(20):
        runner.tick_once(float(step))
    call_command("check_books")


def _queries_per_tick(trader, stocks: int) -> list[int]:
    """SQL statements of three feed steps over ``stocks`` stocks, each with a resting order; one order fills."""
    listed = [new_stock(f"Q{stocks}N{n}", price="100.00") for n in range(stocks)]
    for stock in listed:
        buy(trader, stock, quantity=1, type="limit", limit_price="50.00", time_in_force="gtc")
    crossing = buy(trader, listed[0], quantity=1, type="limit", limit_price="99.50", time_in_force="gtc")
    steps = [{stock.symbol: price for stock in listed} for price in ("100.50", "101.00", "99.00")]
    clock = Clock(T0 + timedelta(seconds=10))
    runner = FeedRunner(ScriptedFeed(listed, steps), holder=f"count-{stocks}", clock=clock)
    counts = []
    for step, gap in enumerate((0, 70, 1)):  # same minute bar, a new minute bar, same again
        clock.at += timedelta(seconds=gap)
        with CaptureQueriesContext(connection) as queries:
            assert runner.tick_once(float(step))
        counts.append(len(queries))
    assert Order.objects.get(pk=crossing.pk).status == "filled"
    assert Order.objects.filter(stock__in=listed, status="new").count() == stocks
    assert set(Quote.objects.filter(stock__in=listed).values_list("price", flat=True)) == {Decimal("99.00")}
    assert PriceBar.objects.filter(stock__in=listed, interval=BarInterval.MINUTE).count() == 2 * stocks
    runner.release()
    return counts


@pytest.mark.django_db
def test_a_tick_makes_the_same_queries_for_ten_times_the_stocks(trader):
    assert _queries_per_tick(trader, 3) == _queries_per_tick(trader, 30)
    call_command("check_books")
